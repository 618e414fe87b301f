//! `/rooms/new`: opening an escalation in one form — customer (existing or new), the problem,
//! severity, who escalated and when, and the people — in one transaction that also creates the
//! default decision types and the first timeline entry.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sqlx::{Any, AnyConnection, Transaction};

use super::change::RoomTx;
use super::model::{NewRoom, Severity};
use super::picker::{Picked, Picker};
use super::roles::{self, Roles, Staffing};
use crate::AppState;
use crate::accounts::CurrentUser;
use crate::accounts::user;
use crate::clock::Millis;
use crate::customers::model::{self as customers, Contact, Customer, parse_domain};
use crate::customers::{ContactForm, DUPLICATE_CONTACT};
use crate::db::Db;
use crate::decisions;
use crate::error::AppError;
use crate::members::model as members;
use crate::members::model::MemberKind;
use crate::timeline;
use crate::web::forms::{FieldErrors, Form, invalid, required_text};
use crate::web::page::Page;
use crate::web::time::Zone;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/new", get(show).post(create))
        .route("/rooms/new/people", post(people))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OpenForm {
    pub customer: String,
    pub new_customer_name: String,
    pub new_customer_domain: String,
    pub title: String,
    pub problem: String,
    pub severity: String,
    pub escalated_by: String,
    pub new_contact_name: String,
    pub new_contact_email: String,
    pub new_contact_title: String,
    pub escalated_at: String,
    pub my_kind: String,
    pub pms: Vec<i64>,
    pub partners: Vec<i64>,
    pub leadership: Vec<i64>,
    /// The searches of the people picker, and which *Find* button was pressed (without
    /// JavaScript): then the form is shown again with the results instead of opening a room.
    pub find_pms: String,
    pub find_partners: String,
    pub find_leadership: String,
    pub search: String,
    pub lead: String,
    pub communicator: String,
    pub next_customer_update_due: String,
    pub next_leadership_update_due: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "rooms/new.html")]
struct NewRoomPage {
    page: Page,
    form: OpenForm,
    errors: FieldErrors,
    customers: Vec<Customer>,
    contacts: Vec<(Contact, String)>,
    picker: Picker,
    severities: &'static [Severity],
}

/// The picker alone, re-rendered by htmx as a person types a name.
#[derive(Template, WebTemplate)]
#[template(path = "rooms/new.html", block = "people")]
struct PeopleFragment {
    form: OpenForm,
    errors: FieldErrors,
    picker: Picker,
}

impl OpenForm {
    fn picked<'a>(&'a self, user: &'a CurrentUser) -> Picked<'a> {
        Picked {
            me: (user.id, &user.name),
            pms: &self.pms,
            partners: &self.partners,
            leadership: &self.leadership,
            find_pms: &self.find_pms,
            find_partners: &self.find_partners,
            find_leadership: &self.find_leadership,
        }
    }
}

async fn people(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<OpenForm>,
) -> Result<PeopleFragment, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(PeopleFragment {
        picker: Picker::load(&mut conn, &form.picked(&user)).await?,
        form,
        errors: FieldErrors::default(),
    })
}

async fn render(
    state: &AppState,
    page: Page,
    user: &CurrentUser,
    form: OpenForm,
    errors: FieldErrors,
) -> Result<NewRoomPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let customer_list = customers::list(&mut *conn).await?;
    let contacts = customers::contacts_visible_to(&mut *conn, user)
        .await?
        .into_iter()
        .map(|contact| {
            let customer = customer_list
                .iter()
                .find(|c| c.id == contact.customer_id)
                .map_or(String::new(), |c| c.name.clone());
            (contact, customer)
        })
        .collect();
    Ok(NewRoomPage {
        page,
        errors,
        customers: customer_list,
        contacts,
        picker: Picker::load(&mut conn, &form.picked(user)).await?,
        form,
        severities: Severity::ALL,
    })
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
) -> Result<NewRoomPage, AppError> {
    let form = OpenForm {
        severity: Severity::S2.as_str().to_owned(),
        escalated_at: page.zone.to_input(state.clock.now()),
        ..OpenForm::default()
    };
    render(&state, page, &user, form, FieldErrors::default()).await
}

/// The form's values, checked and typed.
struct Opening {
    customer: CustomerChoice,
    title: String,
    problem: String,
    severity: Severity,
    escalated_by: ContactChoice,
    escalated_at: Millis,
    roles: Roles,
    next_customer_update_due: Option<Millis>,
    next_leadership_update_due: Option<Millis>,
}

enum CustomerChoice {
    Existing(i64),
    New { name: String, domain: String },
}

enum ContactChoice {
    Nobody,
    Existing(i64),
    New(customers::NewContact),
}

fn id_or_none(raw: &str) -> Option<i64> {
    raw.trim().parse().ok()
}

impl OpenForm {
    /// Checks the form; times are read in `zone`, the opener's.
    fn parse(&self, opener: i64, now: Millis, zone: Zone) -> Result<Opening, FieldErrors> {
        let mut errors = FieldErrors::default();
        let customer = self.customer(&mut errors);
        let title = errors.check(
            "title",
            required_text(&self.title, 160, "Give the escalation a short title."),
        );
        let problem = errors.check(
            "problem",
            required_text(
                &self.problem,
                5000,
                "Describe the problem in the customer's words.",
            ),
        );
        let severity = errors.require(
            "severity",
            Severity::parse(&self.severity),
            "Choose a severity.",
        );
        let escalated_by = self.escalated_by(&mut errors);
        let escalated_at = errors.check("escalated_at", zone.parse_input(&self.escalated_at));
        let next_customer_update_due = errors.check(
            "next_customer_update_due",
            zone.parse_input(&self.next_customer_update_due),
        );
        let next_leadership_update_due = errors.check(
            "next_leadership_update_due",
            zone.parse_input(&self.next_leadership_update_due),
        );
        let roles = roles::resolve(&self.staffing(opener))
            .map_err(|problems| {
                for (field, message) in problems {
                    errors.add(field, message);
                }
            })
            .ok();
        errors.finish(|| {
            Some(Opening {
                customer: customer?,
                title: title?,
                problem: problem?,
                severity: severity?,
                escalated_by: escalated_by?,
                escalated_at: escalated_at?.unwrap_or(now),
                roles: roles?,
                next_customer_update_due: next_customer_update_due?,
                next_leadership_update_due: next_leadership_update_due?,
            })
        })
    }

    fn customer(&self, errors: &mut FieldErrors) -> Option<CustomerChoice> {
        if self.customer != "new" {
            let existing = id_or_none(&self.customer).map(CustomerChoice::Existing);
            return errors.require(
                "customer",
                existing,
                "Choose the customer, or add a new one.",
            );
        }
        let name = errors.check(
            "new_customer_name",
            required_text(
                &self.new_customer_name,
                120,
                "Enter the new customer's name.",
            ),
        );
        let domain = errors.check(
            "new_customer_domain",
            parse_domain(&self.new_customer_domain),
        );
        Some(CustomerChoice::New {
            name: name?,
            domain: domain?,
        })
    }

    fn escalated_by(&self, errors: &mut FieldErrors) -> Option<ContactChoice> {
        match self.escalated_by.as_str() {
            "" => Some(ContactChoice::Nobody),
            "new" => {
                let contact = ContactForm {
                    name: self.new_contact_name.clone(),
                    email: self.new_contact_email.clone(),
                    title: self.new_contact_title.clone(),
                    time_zone: String::new(),
                };
                let fields = [
                    "new_contact_name",
                    "new_contact_email",
                    "new_contact_title",
                    "new_contact_time_zone",
                ];
                contact.parse_into(errors, fields).map(ContactChoice::New)
            }
            raw => id_or_none(raw).map(ContactChoice::Existing),
        }
    }

    fn staffing(&self, opener: i64) -> Staffing {
        Staffing {
            opener,
            opener_kind: MemberKind::parse(&self.my_kind),
            pms: self.pms.clone(),
            partners: self.partners.clone(),
            leadership: self.leadership.clone(),
            lead: id_or_none(&self.lead),
            communicator: id_or_none(&self.communicator),
        }
    }
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Form(form): Form<OpenForm>,
) -> Result<Response, AppError> {
    if !form.search.is_empty() {
        // A *Find* button without JavaScript: show the form again with the people found.
        return Ok(render(&state, page, &user, form, FieldErrors::default())
            .await?
            .into_response());
    }
    match open(&state, &user, &form, page.zone).await? {
        Ok(room_id) => Ok(Redirect::to(&format!("/rooms/{room_id}")).into_response()),
        Err(errors) => invalid(render(&state, page, &user, form, errors).await?),
    }
}

/// Opens a room as `user` from the form's fields (times read in `zone`) — from the page or the
/// API, the same way, in one transaction. Returns the room, or the fields' problems.
pub async fn open(
    state: &AppState,
    user: &CurrentUser,
    form: &OpenForm,
    zone: Zone,
) -> Result<Result<i64, FieldErrors>, AppError> {
    let now = state.clock.now();
    let opening = match form.parse(user.id, now, zone) {
        Ok(opening) => opening,
        Err(errors) => return Ok(Err(errors)),
    };
    let tx = state.db.begin_write().await?;
    match open_room(&state.db, tx, &opening, user, now).await? {
        Ok((tx, room_id)) => {
            tx.commit().await?;
            tracing::info!(room.id = room_id, "room opened");
            Ok(Ok(room_id))
        }
        Err(errors) => Ok(Err(errors)),
    }
}

/// What a form that parsed can still run into inside the transaction: a reference that turned
/// out to be stale or taken. The caller then rolls back and shows the messages.
type Stale<T> = Result<T, FieldErrors>;

/// Writes the room and everything it opens with; the caller commits.
async fn open_room(
    db: &Db,
    mut customer_tx: Transaction<'static, Any>,
    opening: &Opening,
    opener: &CurrentUser,
    now: Millis,
) -> Result<Stale<(RoomTx, i64)>, AppError> {
    let tx = &mut customer_tx;
    let customer = match resolve_customer(tx, &opening.customer, now).await? {
        Ok(customer) => customer,
        Err(errors) => return Ok(Err(errors)),
    };
    let escalated_by =
        match resolve_contact(tx, &opening.escalated_by, &customer, opener, now).await? {
            Ok(contact) => contact,
            Err(errors) => return Ok(Err(errors)),
        };
    for user_id in opening.roles.members.keys() {
        if !user::find(&mut **tx, *user_id)
            .await?
            .is_some_and(|u| u.is_active())
        {
            let message = "Someone you named no longer has an active account.";
            return Ok(Err(FieldErrors::single("pms", message)));
        }
    }
    let room = NewRoom {
        customer_id: customer.id,
        customer_name: &customer.name,
        title: &opening.title,
        problem: &opening.problem,
        severity: opening.severity,
        escalated_by_contact_id: escalated_by.as_ref().map(|c| c.id),
        escalated_at: opening.escalated_at,
        lead_user_id: opening.roles.lead,
        communicator_user_id: opening.roles.communicator,
        next_customer_update_due: opening.next_customer_update_due,
        next_leadership_update_due: opening.next_leadership_update_due,
        opened_by: opener.id,
    };
    let (mut room_tx, room_id) = RoomTx::open(db, customer_tx, &room, now).await?;
    let tx = &mut room_tx;
    for (user_id, kind) in &opening.roles.members {
        members::insert(tx, room_id, *user_id, *kind, opener.id, now).await?;
    }
    decisions::model::insert_default_types(
        tx,
        room_id,
        opening.roles.lead,
        opening.roles.communicator,
    )
    .await?;
    let escalated = escalated_by.map_or(String::new(), |c| format!(", escalated by {}", c.name));
    let summary = format!(
        "{} opened the room for {} ({}){escalated}. Lead and communicator assigned.",
        opener.name,
        customer.name,
        opening.severity.label()
    );
    timeline::record(
        tx,
        room_id,
        Some(opener.id),
        "room.opened",
        &summary,
        "",
        now,
    )
    .await?;
    Ok(Ok((room_tx, room_id)))
}

async fn resolve_customer(
    tx: &mut AnyConnection,
    choice: &CustomerChoice,
    now: Millis,
) -> Result<Stale<Customer>, AppError> {
    Ok(match choice {
        CustomerChoice::Existing(id) => customers::find(&mut *tx, *id).await?.ok_or_else(|| {
            FieldErrors::single(
                "customer",
                "That customer no longer exists; choose another.",
            )
        }),
        CustomerChoice::New { name, domain } => {
            match customers::insert(tx, name, domain, now).await? {
                Some(id) => Ok(Customer {
                    id,
                    name: name.clone(),
                    email_domain: domain.clone(),
                }),
                None => Err(FieldErrors::single(
                    "new_customer_name",
                    "This customer already exists; choose it from the list.",
                )),
            }
        }
    })
}

/// The escalating contact, `None` for nobody.
async fn resolve_contact(
    tx: &mut AnyConnection,
    choice: &ContactChoice,
    customer: &Customer,
    opener: &CurrentUser,
    now: Millis,
) -> Result<Stale<Option<Contact>>, AppError> {
    Ok(match choice {
        ContactChoice::Nobody => Ok(None),
        ContactChoice::Existing(id) => {
            // Only a contact the opener may read can be picked (the form lists no others).
            let visible = customers::contacts_visible(&mut *tx, opener, customer.id).await?;
            let contact = customers::find_contact(&mut *tx, *id).await?;
            match contact.filter(|c| visible && c.customer_id == customer.id) {
                Some(contact) => Ok(Some(contact)),
                None => Err(FieldErrors::single(
                    "escalated_by",
                    format!("Choose a contact of {}, or add a new one.", customer.name),
                )),
            }
        }
        ContactChoice::New(new) => {
            match customers::insert_contact(tx, customer.id, new, now).await? {
                Some(id) => Ok(Some(Contact {
                    id,
                    customer_id: customer.id,
                    name: new.name.clone(),
                    email: new.email.as_str().to_owned(),
                    title: new.title.clone(),
                    time_zone: new.time_zone.map_or(String::new(), |z| z.name().to_owned()),
                })),
                None => Err(FieldErrors::single("new_contact_email", DUPLICATE_CONTACT)),
            }
        }
    })
}
