//! Decision types and decisions: who decides what, proposals, the owner's decision, and
//! superseding an earlier decision (linked both ways).

pub mod model;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::AppState;
use crate::accounts::CurrentUser;

use crate::error::AppError;
use crate::members::model::{self as members, Member, MemberKind};
use crate::members::rules::can_hold_work;
use crate::rooms::access::{Action, check};
use crate::rooms::change::{RoomChange, read_room};
use crate::rooms::model::Room;
use crate::rooms::parts::Part;
use crate::web::forms::{FieldErrors, Form, invalid, optional_text, required_text};
use crate::web::page::Page;
use model::{Decision, DecisionStatus, DecisionType, NewDecision};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{id}/decisions/new", get(new_decision))
        .route("/rooms/{id}/decisions", post(propose))
        .route("/rooms/{id}/decisions/{decision}/outcome", post(settle))
        .route("/rooms/{id}/decision-types", get(types_page).post(add_type))
        .route("/rooms/{id}/decision-types/{type}", post(update_type))
}

/// Why `user_id` may not settle `decision` as `outcome` now (only the type's owner decides).
pub fn settle_refusal(decision: &Decision, owner: i64, user_id: i64) -> Option<String> {
    if owner != user_id {
        return Some(format!(
            "Only the owner of “{}” decisions can decide or reject this.",
            decision.type_name
        ));
    }
    if decision.status != DecisionStatus::Proposed {
        return Some(format!(
            "This decision is already {}.",
            decision.status.label().to_lowercase()
        ));
    }
    None
}

#[derive(Template, WebTemplate)]
#[template(path = "decisions/new.html")]
struct NewDecisionPage {
    page: Page,
    room: Room,
    types: Vec<DecisionType>,
    decided: Vec<Decision>,
    form: ProposeForm,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProposeForm {
    decision_type: String,
    title: String,
    rationale: String,
    supersedes: String,
}

async fn decision_form(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    room_id: i64,
    form: ProposeForm,
    errors: FieldErrors,
) -> Result<NewDecisionPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, user).await?;
    check(&viewer, &room, Action::Contribute)?;
    let types = model::types(&mut conn, room_id).await?;
    let decided = model::list(&mut conn, room_id, None)
        .await?
        .into_iter()
        .filter(|d| d.status == DecisionStatus::Decided)
        .collect();
    Ok(NewDecisionPage {
        page,
        room,
        types,
        decided,
        form,
        errors,
    })
}

async fn new_decision(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
) -> Result<NewDecisionPage, AppError> {
    decision_form(
        &state,
        &user,
        page,
        room_id,
        ProposeForm::default(),
        FieldErrors::default(),
    )
    .await
}

/// A proposal, checked: what is decided, why, of which kind, replacing which decision.
pub struct Proposal<'t> {
    pub title: String,
    pub rationale: String,
    pub decision_type: &'t DecisionType,
    pub supersedes: Option<i64>,
}

impl ProposeForm {
    fn supersedes(&self) -> Option<i64> {
        self.supersedes.parse().ok()
    }

    /// Checks the form against the room's decision types and the decision it would supersede.
    fn parse<'t>(
        &self,
        types: &'t [DecisionType],
        superseded: Option<&Decision>,
    ) -> Result<Proposal<'t>, FieldErrors> {
        let mut errors = FieldErrors::default();
        let title = errors.check(
            "title",
            required_text(&self.title, 200, "Say what is being decided."),
        );
        let rationale = errors.check("rationale", optional_text(&self.rationale, 5000));
        let type_id: Option<i64> = self.decision_type.parse().ok();
        let decision_type = types.iter().find(|t| Some(t.id) == type_id);
        let decision_type = errors.require(
            "decision_type",
            decision_type,
            "Choose the kind of decision.",
        );
        let supersedes = self.supersedes();
        if supersedes.is_some() && superseded.is_none_or(|d| d.status != DecisionStatus::Decided) {
            errors.add(
                "supersedes",
                "Only a decision that was made can be superseded.",
            );
        }
        errors.finish(|| {
            Some(Proposal {
                title: title?,
                rationale: rationale?,
                decision_type: decision_type?,
                supersedes,
            })
        })
    }
}

/// Writes the proposal and its timeline entry (from the room page, the sync minutes).
pub async fn record_proposal(
    change: &mut RoomChange,
    proposal: &Proposal<'_>,
) -> Result<(), AppError> {
    let (room_id, now, by) = (change.room.id, change.now, change.viewer.clone());
    let new = NewDecision {
        room_id,
        decision_type_id: proposal.decision_type.id,
        title: &proposal.title,
        rationale: &proposal.rationale,
        supersedes_id: proposal.supersedes,
        proposed_by: by.user_id,
    };
    let id = model::insert(change.conn(), &new, now).await?;
    let kind = proposal.decision_type;
    let summary = format!(
        "{} proposed a {} decision: “{}” (for {} to decide).",
        by.name, kind.name, proposal.title, kind.owner_name
    );
    let link = format!("/rooms/{room_id}#decision-{id}");
    change.record("decisions.proposed", &summary, &link).await?;
    Ok(())
}

async fn propose(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<ProposeForm>,
) -> Result<Response, AppError> {
    let mut change =
        RoomChange::begin_writing_only(&state, room_id, &user, Action::Contribute, Part::Decisions)
            .await?;
    let types = model::types(change.conn(), room_id).await?;
    let superseded = match form.supersedes() {
        Some(id) => model::find(change.conn(), room_id, id).await?,
        None => None,
    };
    let proposal = match form.parse(&types, superseded.as_ref()) {
        Ok(proposal) => proposal,
        Err(errors) => {
            drop(change);
            return invalid(decision_form(&state, &user, page, room_id, form, errors).await?);
        }
    };
    record_proposal(&mut change, &proposal).await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}#decisions")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OutcomeForm {
    outcome: String,
}

impl OutcomeForm {
    fn parse(&self) -> Result<DecisionStatus, AppError> {
        match self.outcome.as_str() {
            "decided" => Ok(DecisionStatus::Decided),
            "rejected" => Ok(DecisionStatus::Rejected),
            _ => Err(AppError::Conflict("Choose to decide or to reject.".into())),
        }
    }
}

/// "Dana decided “…” (Scope). It supersedes decision #3." — the timeline sentence.
fn settled_summary(actor: &str, decision: &Decision, outcome: DecisionStatus) -> String {
    let verb = outcome.as_str();
    let mut summary = format!(
        "{actor} {verb} “{}” ({}).",
        decision.title, decision.type_name
    );
    if let (DecisionStatus::Decided, Some(older)) = (outcome, decision.supersedes_id) {
        summary.push_str(&format!(" It supersedes decision #{older}."));
    }
    summary
}

async fn settle(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((room_id, decision_id)): Path<(i64, i64)>,
    Form(form): Form<OutcomeForm>,
) -> Result<Redirect, AppError> {
    let outcome = form.parse()?;
    let mut change =
        RoomChange::begin_writing_only(&state, room_id, &user, Action::Contribute, Part::Decisions)
            .await?;
    settle_in(&mut change, decision_id, outcome).await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}#decisions")))
}

/// Decides or rejects a proposed decision in the change, as its type's owner, with its timeline
/// entry (every door that settles one comes here: the room page, the sync minutes).
pub async fn settle_in(
    change: &mut RoomChange,
    decision_id: i64,
    outcome: DecisionStatus,
) -> Result<(), AppError> {
    let room_id = change.room.id;
    let decision = model::find(change.conn(), room_id, decision_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let types = model::types(change.conn(), room_id).await?;
    let owner = types.iter().find(|t| t.id == decision.decision_type_id);
    let owner = owner.map_or(0, |t| t.owner_user_id);
    let (me, name, now) = (
        change.viewer.user_id,
        change.viewer.name.clone(),
        change.now,
    );
    if let Some(why) = settle_refusal(&decision, owner, me) {
        return Err(AppError::Forbidden(why));
    }
    model::settle(change.conn(), &decision, outcome, me, now).await?;
    let summary = settled_summary(&name, &decision, outcome);
    let link = format!("/rooms/{room_id}#decision-{decision_id}");
    let kind = format!("decisions.{}", outcome.as_str());
    change.record(&kind, &summary, &link).await?;
    Ok(())
}

#[derive(Template, WebTemplate)]
#[template(path = "decisions/types.html")]
struct TypesPage {
    page: Page,
    room: Room,
    types: Vec<DecisionType>,
    owners: Vec<Member>,
    /// Who may settle disagreements: the room's PMs and leadership members.
    points: Vec<Member>,
    form: TypeForm,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TypeForm {
    name: String,
    owner: String,
    /// Who settles disagreements about this type ('' for the room's lead).
    escalates_to: String,
}

async fn types_form(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    room_id: i64,
    form: TypeForm,
    errors: FieldErrors,
) -> Result<TypesPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let (room, viewer) = read_room(&mut conn, room_id, user).await?;
    check(&viewer, &room, Action::ManageDecisionTypes)?;
    let people = members::list(&mut conn, room_id).await?;
    let points = people
        .iter()
        .filter(|m| m.kind != MemberKind::Partner)
        .cloned()
        .collect();
    let owners = people
        .into_iter()
        .filter(|m| can_hold_work(m.kind))
        .collect();
    Ok(TypesPage {
        page,
        types: model::types(&mut conn, room_id).await?,
        room,
        owners,
        points,
        form,
        errors,
    })
}

async fn types_page(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
) -> Result<TypesPage, AppError> {
    types_form(
        &state,
        &user,
        page,
        room_id,
        TypeForm::default(),
        FieldErrors::default(),
    )
    .await
}

impl TypeForm {
    /// The name and the owner, chosen among the room's members who can hold work.
    fn parse(&self, members: Vec<Member>) -> Result<(String, Member), FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check(
            "name",
            required_text(&self.name, 80, "Name the kind of decision."),
        );
        let owner_id: Option<i64> = self.owner.parse().ok();
        let owner = members
            .into_iter()
            .find(|m| Some(m.user_id) == owner_id && can_hold_work(m.kind));
        let owner = errors.require(
            "owner",
            owner,
            "Choose a product manager or partner of this room as the owner.",
        );
        errors.finish(|| name.zip(owner))
    }
}

const DUPLICATE_TYPE: &str = "This room already has a decision type with this name.";

/// The types page again, with the form as typed and its messages (422).
async fn types_invalid(
    state: &AppState,
    user: &CurrentUser,
    page: Page,
    change: RoomChange,
    form: TypeForm,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let room_id = change.room.id;
    drop(change);
    invalid(types_form(state, user, page, room_id, form, errors).await?)
}

async fn add_type(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(room_id): Path<i64>,
    Form(form): Form<TypeForm>,
) -> Result<Response, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::ManageDecisionTypes).await?;
    let members = members::list(change.conn(), room_id).await?;
    let (name, owner) = match form.parse(members) {
        Ok(parsed) => parsed,
        Err(errors) => return types_invalid(&state, &user, page, change, form, errors).await,
    };
    if model::insert_type(change.conn(), room_id, &name, owner.user_id)
        .await?
        .is_none()
    {
        let errors = FieldErrors::single("name", DUPLICATE_TYPE);
        return types_invalid(&state, &user, page, change, form, errors).await;
    }
    let summary = format!(
        "{} added the decision type “{name}”, owned by {}.",
        user.name, owner.name
    );
    change.record("decisions.type_added", &summary, "").await?;
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}/decision-types")).into_response())
}

/// "Dana renamed “A” to “B” and gave “B” decisions to Sam (was Kim).", or `None` when nothing
/// changed.
fn type_change_summary(
    actor: &str,
    current: &DecisionType,
    name: &str,
    owner: &Member,
) -> Option<String> {
    let mut said = Vec::new();
    if name != current.name {
        said.push(format!("renamed “{}” to “{name}”", current.name));
    }
    if owner.user_id != current.owner_user_id {
        said.push(format!(
            "gave “{name}” decisions to {} (was {})",
            owner.name, current.owner_name
        ));
    }
    (!said.is_empty()).then(|| format!("{actor} {}.", said.join(" and ")))
}

async fn update_type(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path((room_id, type_id)): Path<(i64, i64)>,
    Form(form): Form<TypeForm>,
) -> Result<Response, AppError> {
    let mut change = RoomChange::begin(&state, room_id, &user, Action::ManageDecisionTypes).await?;
    let types = model::types(change.conn(), room_id).await?;
    let current = types
        .into_iter()
        .find(|t| t.id == type_id)
        .ok_or(AppError::NotFound)?;
    let members = members::list(change.conn(), room_id).await?;
    let (name, owner) = match form.parse(members.clone()) {
        Ok(parsed) => parsed,
        Err(errors) => return types_invalid(&state, &user, page, change, form, errors).await,
    };
    if !model::update_type(change.conn(), type_id, &name, owner.user_id).await? {
        let errors = FieldErrors::single("name", DUPLICATE_TYPE);
        return types_invalid(&state, &user, page, change, form, errors).await;
    }
    if let Some(summary) = type_change_summary(&user.name, &current, &name, &owner) {
        change
            .record("decisions.type_changed", &summary, "")
            .await?;
    }
    let escalates_to = match form.escalates_to.trim() {
        "" => None,
        raw => {
            let id: i64 = raw.parse().unwrap_or(0);
            let point = members
                .iter()
                .find(|m| m.user_id == id && m.kind != MemberKind::Partner)
                .ok_or_else(|| {
                    AppError::Conflict(
                        "Disagreements go to a PM or a leadership member of the room.".into(),
                    )
                })?;
            Some((point.user_id, point.name.clone()))
        }
    };
    if escalates_to.as_ref().map(|(id, _)| *id) != current.escalates_to.as_ref().map(|(id, _)| *id)
    {
        model::set_escalates_to(
            change.conn(),
            type_id,
            escalates_to.as_ref().map(|(id, _)| *id),
        )
        .await?;
        let who = escalates_to.map_or("the lead".to_owned(), |(_, name)| name);
        let summary = format!(
            "{} named {who} to settle disagreements about {} decisions.",
            user.name, name
        );
        change
            .record("decisions.type_changed", &summary, "")
            .await?;
    }
    change.commit().await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}/decision-types")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposed() -> Decision {
        Decision {
            id: 7,
            decision_type_id: 1,
            type_name: "Commercial".into(),
            title: "Extend the trial".into(),
            rationale: String::new(),
            status: DecisionStatus::Proposed,
            proposed_by: "Lee".into(),
            proposed_at: 0,
            decided_by: None,
            decided_at: None,
            supersedes_id: None,
            superseded_by_id: None,
            contested: None,
        }
    }

    #[test]
    fn only_the_owner_of_the_type_settles_a_decision() {
        assert!(settle_refusal(&proposed(), 5, 5).is_none());
        let refusal = settle_refusal(&proposed(), 5, 6).unwrap();
        assert!(refusal.contains("owner of “Commercial”"));
    }

    #[test]
    fn a_settled_decision_cannot_be_settled_again() {
        let decided = Decision {
            status: DecisionStatus::Decided,
            ..proposed()
        };
        assert_eq!(
            settle_refusal(&decided, 5, 5).unwrap(),
            "This decision is already decided."
        );
    }
}
