//! `POST /rooms/{id}/away` and `POST /rooms/{id}/away/end`: a PM says they are away until a time
//! (read in their zone) with a stand-in, or that they are back. The rules of `absence` are
//! checked in the transaction that writes, against who is away at that moment.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::post;
use serde::Deserialize;

use super::absence;

use crate::AppState;
use crate::accounts::{CurrentUser, user};
use crate::emails::{self, StandInNotice};
use crate::error::AppError;
use crate::members::model as members;
use crate::outbox::model::{self as outbox, Outgoing};
use crate::rooms::access::Action;
use crate::rooms::change::RoomChange;
use crate::web::forms::Form;
use crate::web::page::Page;
use crate::web::time::Zone;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/away", post(go_away))
        .route("/rooms/{id}/away/end", post(come_back))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AwayForm {
    until: String,
    stand_in: Option<i64>,
}

async fn go_away(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<AwayForm>,
) -> Result<Redirect, AppError> {
    let until = page
        .zone
        .parse_input(&form.until)
        .map_err(AppError::Conflict)?
        .ok_or_else(|| AppError::Conflict("Choose when you are back.".into()))?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    let now = change.now;
    let people = members::list(change.conn(), room_id).await?;
    let me = people
        .iter()
        .find(|m| m.user_id == user.id)
        .ok_or_else(|| {
            AppError::Forbidden("Only a member of the room can be away from it.".into())
        })?;
    let stand_in = form
        .stand_in
        .and_then(|id| people.iter().find(|m| m.user_id == id));
    let away = absence::active(change.conn(), room_id, now).await?;
    if let Some(why) = absence::away_refusal(me, stand_in, &away, until, now) {
        return Err(AppError::Conflict(why));
    }
    let stand_in = stand_in.expect("checked by away_refusal");
    absence::set(
        change.conn(),
        room_id,
        user.id,
        stand_in.user_id,
        until,
        now,
    )
    .await?;
    let summary = format!(
        "{} is away until {}; {} aligns or objects for them meanwhile.",
        user.name,
        page.zone.when(until),
        stand_in.name
    );
    change.record("members.away", &summary, "").await?;
    tell_stand_in(&state, &mut change, stand_in.user_id, until).await?;
    change.commit().await?;
    state.outbox.wake();
    Ok(Redirect::to(&format!("/rooms/{room_id}#members")))
}

/// Emails the stand-in that they speak for the absent PM now (times in the stand-in's zone).
async fn tell_stand_in(
    state: &AppState,
    change: &mut RoomChange,
    stand_in: i64,
    until: crate::clock::Millis,
) -> Result<(), AppError> {
    let Some(account) = user::find(&mut **change.conn(), stand_in).await? else {
        return Ok(());
    };
    let zone = account
        .time_zone
        .as_deref()
        .and_then(Zone::parse)
        .unwrap_or(state.config.default_zone);
    let headers = crate::mail::to_person(
        &state.config,
        &account.name,
        &account.email,
        format!(
            "You stand in for {} in “{}”",
            change.viewer.name, change.room.title
        ),
    )?;
    let notice = StandInNotice {
        name: &account.name,
        absent: &change.viewer.name,
        room_title: &change.room.title,
        until: zone.when(until),
        link: &state.config.link(&format!("/rooms/{}", change.room.id)),
    };
    let message = emails::compose(headers, &notice)?;
    let (backend, now) = (state.db.backend(), change.now);
    outbox::enqueue(
        change.conn(),
        backend,
        &Outgoing::notification(message),
        now,
    )
    .await?;
    Ok(())
}

async fn come_back(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(room_id): Path<i64>,
) -> Result<Redirect, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Read).await?;
    let now = change.now;
    if !absence::end(change.conn(), room_id, user.id, now).await? {
        return Err(AppError::Conflict(
            "You were not away from this room.".into(),
        ));
    }
    let summary = format!(
        "{} is back; a stand-in no longer speaks for them.",
        user.name
    );
    change.record("members.back", &summary, "").await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}#members")))
}
