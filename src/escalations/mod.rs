//! Disagreements settled by a named person. A PM contests a proposed decision, or objects to a
//! revision; any PM escalates the objection that stands (or the contested decision) to the
//! escalation point (`rules`), who is emailed a link, sees both positions side by side, and
//! rules. A ruling to go ahead counts as the objector's alignment on that exact revision,
//! recorded as a ruling; a ruling on a decision decides it. Every step is on the timeline, and
//! every rule is checked in the transaction that writes.

pub mod model;
pub mod rules;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use lettre::Message;
use lettre::message::Mailbox;
use serde::Deserialize;

use self::model::{Escalation, NewEscalation, Ruling, Subject};
use self::rules::Rulers;
use crate::AppState;
use crate::accounts::{CurrentUser, user};
use crate::approvals::{self, Alignment, Position, Stance, SubjectKind, Via};
use crate::clock::Millis;
use crate::decisions::model::{self as decisions, DecisionStatus};
use crate::drafts::DraftState;
use crate::emails::{self, EscalationRequest};
use crate::error::AppError;
use crate::members::model::{self as members, Member, MemberKind};
use crate::outbox::model::{self as outbox, Outgoing};
use crate::rooms::access::Action;
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::Room;
use crate::updates::model as updates;
use crate::web::filters;
use crate::web::forms::{Form, optional_text, required_text};
use crate::web::page::Page;
use sqlx::AnyConnection;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/escalations", post(raise))
        .route("/rooms/{id}/escalations/{e}", get(show))
        .route("/rooms/{id}/escalations/{e}/ruling", post(rule))
        .route("/rooms/{id}/decisions/{d}/contest", post(contest))
}

/// What a disagreement is about, as both sides see it.
pub struct Disputed {
    /// "revision 3 of the customer email “Friday”", "the Commercial decision “Extend …”".
    pub what: String,
    /// The text as it stands (a revision's body, a decision's rationale).
    pub text: String,
    /// Whose side it is: who wrote or proposed it, and who aligned.
    pub for_it: String,
    pub link: String,
    /// The revision that is current now (0 for a decision).
    pub current: i64,
    /// The party and their reason, when the disagreement still stands.
    pub standing: Vec<(i64, String)>,
    /// For a decision: its type's escalates-to member.
    pub escalates_to: Option<i64>,
}

fn names(alignment: &[(Member, Alignment)]) -> String {
    let aligned: Vec<&str> = alignment
        .iter()
        .filter(|(_, a)| a.is_current())
        .map(|(pm, _)| pm.name.as_str())
        .collect();
    match aligned.is_empty() {
        true => "nobody has aligned yet".to_owned(),
        false => format!("aligned by {}", aligned.join(", ")),
    }
}

fn objections(alignment: &[(Member, Alignment)]) -> Vec<(i64, String)> {
    alignment
        .iter()
        .filter_map(|(pm, a)| match a {
            Alignment::Objects { reason } => Some((pm.user_id, reason.clone())),
            _ => None,
        })
        .collect()
}

/// The disputed subject as it stands now, read on `conn` (the caller's transaction when it
/// writes).
async fn disputed(
    conn: &mut AnyConnection,
    (room, now): (&Room, Millis),
    subject: Subject,
    subject_id: i64,
) -> Result<Disputed, AppError> {
    let room_id = room.id;
    match subject {
        Subject::Draft => {
            let draft = DraftState::load(conn, room, subject_id, now).await?;
            Ok(Disputed {
                what: format!(
                    "revision {} of the customer email “{}”",
                    draft.draft.current_revision, draft.current.subject
                ),
                text: draft.current.body.clone(),
                for_it: format!(
                    "written by {}; {}",
                    draft.current.author,
                    names(&draft.alignment)
                ),
                link: format!("/rooms/{room_id}/drafts/{subject_id}"),
                current: draft.draft.current_revision,
                standing: objections(&draft.alignment),
                escalates_to: None,
            })
        }
        Subject::Update => {
            let update = updates::find(&mut *conn, room_id, subject_id)
                .await?
                .ok_or(AppError::NotFound)?;
            let revision = updates::revision(&mut *conn, subject_id, update.current_revision)
                .await?
                .ok_or(AppError::NotFound)?;
            let people = members::list(&mut *conn, room_id).await?;
            let (alignment, _) = approvals::standing(
                &mut *conn,
                SubjectKind::Update,
                subject_id,
                (room_id, &people),
                update.current_revision,
                now,
            )
            .await?;
            Ok(Disputed {
                what: format!(
                    "revision {} of the leadership update “{}”",
                    update.current_revision, revision.body.headline
                ),
                text: revision.body.what_changed.clone(),
                for_it: format!("Written by {} · {}", revision.author, names(&alignment)),
                link: format!("/rooms/{room_id}/updates/{subject_id}"),
                current: update.current_revision,
                standing: objections(&alignment),
                escalates_to: None,
            })
        }
        Subject::Decision => {
            let decision = decisions::find(&mut *conn, room_id, subject_id)
                .await?
                .ok_or(AppError::NotFound)?;
            let contested: Option<(Option<i64>, String)> = sqlx::query_as(
                "SELECT contested_by, contested_reason FROM decisions WHERE id = $1",
            )
            .bind(subject_id)
            .fetch_optional(&mut *conn)
            .await?;
            let types = decisions::types(&mut *conn, room_id).await?;
            let escalates_to = types
                .iter()
                .find(|t| t.id == decision.decision_type_id)
                .and_then(|t| t.escalates_to.as_ref().map(|(id, _)| *id));
            let standing = match (decision.status, contested) {
                (DecisionStatus::Proposed, Some((Some(by), reason))) => vec![(by, reason)],
                _ => Vec::new(),
            };
            Ok(Disputed {
                what: format!("the {} decision “{}”", decision.type_name, decision.title),
                text: decision.rationale.clone(),
                for_it: format!("Proposed by {}", decision.proposed_by),
                link: format!("/rooms/{room_id}#decision-{subject_id}"),
                current: 0,
                standing,
                escalates_to,
            })
        }
    }
}

/// Who rules on a disagreement with `party` in this room.
async fn rulers_of(
    conn: &mut AnyConnection,
    room: &Room,
    party: i64,
    escalates_to: Option<i64>,
) -> Result<(Rulers, Vec<Member>), AppError> {
    let room_members = members::list(conn, room.id).await?;
    let leadership: Vec<i64> = room_members
        .iter()
        .filter(|m| m.kind == MemberKind::Leadership)
        .map(|m| m.user_id)
        .collect();
    let point = rules::point(escalates_to, room.lead_user_id);
    Ok((rules::rulers(point, party, &leadership), room_members))
}

fn describe(rulers: &Rulers, people: &[Member]) -> String {
    let name = |id: &i64| {
        people
            .iter()
            .find(|m| m.user_id == *id)
            .map_or("a former member".to_owned(), |m| m.name.clone())
    };
    match rulers {
        Rulers::Point(id) => name(id),
        Rulers::Leadership(ids) => ids.iter().map(name).collect::<Vec<_>>().join(" or "),
        Rulers::Admins => "an administrator".to_owned(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RaiseForm {
    subject: String,
    subject_id: i64,
    objector: i64,
}

/// Any PM takes a standing objection (or a contested decision) to the escalation point.
async fn raise(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(room_id): Path<i64>,
    Form(form): Form<RaiseForm>,
) -> Result<Redirect, AppError> {
    let subject = Subject::parse(&form.subject)
        .ok_or_else(|| AppError::Conflict("Escalate a draft, an update or a decision.".into()))?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    if !change.viewer.is_pm() {
        return Err(AppError::Forbidden(
            "Any PM of the room can escalate a disagreement; you are not one.".into(),
        ));
    }
    let (room, now) = (change.room.clone(), change.now);
    let disputed = disputed(change.conn(), (&room, now), subject, form.subject_id).await?;
    let Some((objector, position)) = disputed
        .standing
        .iter()
        .find(|(id, _)| subject == Subject::Decision || *id == form.objector)
        .cloned()
    else {
        return Err(AppError::Conflict(
            "There is no standing disagreement to escalate: the objection was withdrawn, went stale with a new revision, or was settled."
                .into(),
        ));
    };
    let path = |id: i64| format!("/rooms/{room_id}/escalations/{id}");
    let open = model::open_for(
        change.conn(),
        subject,
        form.subject_id,
        disputed.current,
        objector,
    )
    .await?;
    if let Some(open) = open {
        return Ok(Redirect::to(&path(open)));
    }
    let (rulers, people) = rulers_of(change.conn(), &room, objector, disputed.escalates_to).await?;
    let new = NewEscalation {
        room_id,
        subject,
        subject_id: form.subject_id,
        revision: disputed.current,
        objector_id: objector,
        position: &position,
        raised_by: user.id,
    };
    let id = model::insert(change.conn(), &new, now).await?;
    let objector_name = people
        .iter()
        .find(|m| m.user_id == objector)
        .map_or("a former member", |m| m.name.as_str());
    let ruler = describe(&rulers, &people);
    let summary = format!(
        "{} escalated {objector_name}'s disagreement about {} to {ruler}.",
        user.name, disputed.what
    );
    change
        .record("decisions.escalated", &summary, &path(id))
        .await?;
    let mut to: Vec<i64> = rulers.people();
    if to.is_empty() {
        to = user::active_admins(change.conn()).await?;
    }
    for user_id in to {
        let Some(account) = user::find(&mut **change.conn(), user_id).await? else {
            continue;
        };
        let headers = Message::builder()
            .from(state.config.mail_from.clone())
            .to(Mailbox::new(
                Some(account.name.clone()),
                account
                    .email
                    .parse()
                    .map_err(|e| anyhow::anyhow!("account address: {e}"))?,
            ))
            .subject(format!("Your ruling is needed: {}", disputed.what))
            .message_id(Some(crate::mail::message_id(&state.config)));
        let email = EscalationRequest {
            name: &account.name,
            what: &disputed.what,
            objector: objector_name,
            link: &state.config.link(&path(id)),
        };
        let message = emails::compose(headers, &email)?;
        let backend = state.db.backend();
        outbox::enqueue(
            change.conn(),
            backend,
            &Outgoing::notification(message),
            now,
        )
        .await?;
    }
    change.commit().await?;
    state.outbox.wake();
    Ok(Redirect::to(&path(id)))
}

#[derive(Template, WebTemplate)]
#[template(path = "escalations/show.html")]
struct ShowPage {
    page: Page,
    room: Room,
    escalation: Escalation,
    disputed: Disputed,
    ruler: String,
    may_rule: bool,
    /// Whether the revision (or decision) is still what was escalated.
    still_current: bool,
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, id)): Path<(i64, i64)>,
) -> Result<ShowPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, _) = read_room(&mut conn, room_id, &user).await?;
    let now = state.clock.now();
    let escalation = model::find(&mut conn, room_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let disputed = disputed(
        &mut conn,
        (&room, now),
        escalation.subject,
        escalation.subject_id,
    )
    .await?;
    let (rulers, people) = rulers_of(
        &mut conn,
        &room,
        escalation.objector_id,
        disputed.escalates_to,
    )
    .await?;
    let still_current = disputed.current == escalation.revision;
    let may_rule =
        escalation.ruled.is_none() && rulers.may_rule(user.id, user.is_admin) && !room.is_closed();
    Ok(ShowPage {
        page,
        room,
        ruler: describe(&rulers, &people),
        escalation,
        disputed,
        may_rule,
        still_current,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RulingForm {
    ruling: String,
    note: String,
}

/// The escalation point rules. Going ahead aligns the objector on exactly the escalated revision
/// (refused if a newer one was saved meanwhile); a ruling on a decision decides it.
async fn rule(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, id)): Path<(i64, i64)>,
    Form(form): Form<RulingForm>,
) -> Result<Redirect, AppError> {
    let note = optional_text(&form.note, 2000).map_err(AppError::Conflict)?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Read).await?;
    if change.room.is_closed() {
        return Err(AppError::Conflict(
            "This room is closed, so it is read-only. Reopen it to make changes.".into(),
        ));
    }
    let escalation = model::find(change.conn(), room_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (room, now) = (change.room.clone(), change.now);
    let disputed = disputed(
        change.conn(),
        (&room, now),
        escalation.subject,
        escalation.subject_id,
    )
    .await?;
    let (rulers, _) = rulers_of(
        change.conn(),
        &room,
        escalation.objector_id,
        disputed.escalates_to,
    )
    .await?;
    if !rulers.may_rule(user.id, user.is_admin) {
        return Err(AppError::Forbidden(
            "Only the escalation point rules on this disagreement.".into(),
        ));
    }
    let ruling = Ruling::parse(&form.ruling)
        .filter(|r| match escalation.subject {
            Subject::Decision => matches!(r, Ruling::Decide | Ruling::Reject),
            _ => matches!(r, Ruling::Proceed | Ruling::Uphold),
        })
        .ok_or_else(|| AppError::Conflict("Choose one of the rulings offered.".into()))?;
    if disputed.current != escalation.revision {
        return Err(AppError::Conflict(format!(
            "This was escalated about revision {}, and revision {} has been saved since: the objection went stale, so there is nothing left to rule on.",
            escalation.revision, disputed.current
        )));
    }
    if !model::rule(change.conn(), &escalation, user.id, ruling, &note, now).await? {
        return Err(AppError::Conflict("Someone already ruled on this.".into()));
    }
    let objector = &escalation.objector;
    let summary = match (escalation.subject, ruling) {
        (Subject::Decision, outcome) => {
            let decision = decisions::find(change.conn(), room_id, escalation.subject_id)
                .await?
                .ok_or(AppError::NotFound)?;
            if decision.status != DecisionStatus::Proposed {
                return Err(AppError::Conflict(
                    "This decision is no longer proposed: it was settled meanwhile.".into(),
                ));
            }
            let status = match outcome {
                Ruling::Decide => DecisionStatus::Decided,
                _ => DecisionStatus::Rejected,
            };
            decisions::settle(change.conn(), &decision, status, user.id, now).await?;
            format!(
                "{} {} on escalation by {} ({objector} contested it).",
                disputed.what,
                status.label().to_lowercase(),
                user.name
            )
        }
        (subject, Ruling::Proceed) => {
            let kind = match subject {
                Subject::Update => SubjectKind::Update,
                _ => SubjectKind::Draft,
            };
            let position = Position {
                kind,
                subject_id: escalation.subject_id,
                user_id: escalation.objector_id,
                revision: escalation.revision,
                stance: Stance::Aligned,
                reason: "",
                via: Via::Ruling,
                acted_by: Some(user.id),
            };
            approvals::record(change.conn(), &position, now).await?;
            format!(
                "Settled by {}: go ahead with {}. It counts as {objector}'s alignment on revision {} (recorded as a ruling).",
                user.name, disputed.what, escalation.revision
            )
        }
        (_, _) => format!(
            "{} upheld {objector}'s objection to {}: revise it.",
            user.name, disputed.what
        ),
    };
    let summary = match note.is_empty() {
        true => summary,
        false => format!("{summary} “{note}”"),
    };
    change
        .record("decisions.ruled", &summary, &disputed.link)
        .await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}/escalations/{id}")))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContestForm {
    reason: String,
}

/// A PM contests a proposed decision, with a reason; it can then be escalated.
async fn contest(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, decision_id)): Path<(i64, i64)>,
    Form(form): Form<ContestForm>,
) -> Result<Redirect, AppError> {
    let reason =
        required_text(&form.reason, 2000, "Say why you contest it.").map_err(AppError::Conflict)?;
    let mut change = RoomChange::begin(&state, room_id, &user, Action::Contribute).await?;
    if !change.viewer.is_pm() {
        return Err(AppError::Forbidden(
            "Only the room's PMs contest a decision.".into(),
        ));
    }
    let decision = decisions::find(change.conn(), room_id, decision_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if decision.status != DecisionStatus::Proposed {
        return Err(AppError::Conflict(
            "Only a proposed decision can be contested.".into(),
        ));
    }
    decisions::contest(change.conn(), decision_id, user.id, &reason).await?;
    let summary = format!(
        "{} contests the {} decision “{}”: {reason}",
        user.name, decision.type_name, decision.title
    );
    let link = format!("/rooms/{room_id}#decision-{decision_id}");
    change
        .record("decisions.contested", &summary, &link)
        .await?;
    change.commit().await?;
    Ok(Redirect::to(&link))
}
