//! Customers and their contacts: the directory pages, and adding either on its own (the
//! escalation form can also create them inline).

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
use crate::accounts::user::EmailAddress;
use crate::error::AppError;
use crate::web::forms::{FieldErrors, Form, invalid, optional_text, required_text};
use crate::web::page::Page;
use crate::web::time::Zone;
use model::{Contact, Customer, NewContact, parse_domain};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/customers", get(index).post(create))
        .route("/customers/{id}", get(show))
        .route("/customers/{id}/contacts", post(add_contact))
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/index.html")]
struct IndexPage {
    page: Page,
    customers: Vec<Customer>,
    form: CustomerForm,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CustomerForm {
    pub name: String,
    pub email_domain: String,
}

async fn index(
    State(state): State<AppState>,
    _user: CurrentUser,
    page: Page,
) -> Result<IndexPage, AppError> {
    Ok(IndexPage {
        page,
        customers: model::list(state.db.reader()).await?,
        form: CustomerForm::default(),
        errors: FieldErrors::default(),
    })
}

impl CustomerForm {
    fn parse(&self) -> Result<(String, String), FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check(
            "name",
            required_text(&self.name, 120, "Enter the customer's name."),
        );
        let domain = errors.check("email_domain", parse_domain(&self.email_domain));
        errors.finish(|| Some((name?, domain?)))
    }
}

async fn create(
    State(state): State<AppState>,
    _user: CurrentUser,
    page: Page,
    Form(form): Form<CustomerForm>,
) -> Result<Response, AppError> {
    let created = match form.parse() {
        Ok((name, domain)) => {
            let mut tx = state.db.begin_write().await?;
            let id = model::insert(&mut tx, &name, &domain, state.clock.now()).await?;
            tx.commit().await?;
            id.ok_or_else(|| {
                FieldErrors::single("name", "There is already a customer with this name.")
            })
        }
        Err(errors) => Err(errors),
    };
    match created {
        Ok(id) => Ok(Redirect::to(&format!("/customers/{id}")).into_response()),
        Err(errors) => {
            let customers = model::list(state.db.reader()).await?;
            invalid(IndexPage {
                page,
                customers,
                form,
                errors,
            })
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/show.html")]
struct ShowPage {
    page: Page,
    customer: Customer,
    /// Whether the viewer may read and add contacts (an admin, or a member of a room of it).
    may_see_contacts: bool,
    contacts: Vec<Contact>,
    form: ContactForm,
    errors: FieldErrors,
}

impl ShowPage {
    fn zones(&self) -> impl Iterator<Item = Zone> {
        Zone::all()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ContactForm {
    pub name: String,
    pub email: String,
    pub title: String,
    /// Optional IANA zone; empty when unknown.
    pub time_zone: String,
}

impl ContactForm {
    pub fn parse(&self) -> Result<NewContact, FieldErrors> {
        let mut errors = FieldErrors::default();
        let contact = self.parse_into(&mut errors, ["name", "email", "title", "time_zone"]);
        errors.finish(|| contact)
    }

    /// The contact as part of a larger form, its messages under that form's `fields` (name,
    /// email, title, time zone).
    pub fn parse_into(
        &self,
        errors: &mut FieldErrors,
        fields: [&'static str; 4],
    ) -> Option<NewContact> {
        let name = errors.check(
            fields[0],
            required_text(&self.name, 120, "Enter the contact's name."),
        );
        let email = errors.check(fields[1], EmailAddress::parse(&self.email));
        let title = errors.check(fields[2], optional_text(&self.title, 120));
        let time_zone = errors.check(fields[3], contact_zone(&self.time_zone));
        Some(NewContact {
            name: name?,
            email: email?,
            title: title?,
            time_zone: time_zone?,
        })
    }
}

/// A contact's zone: empty when unknown, else an IANA name.
fn contact_zone(raw: &str) -> Result<Option<Zone>, &'static str> {
    match raw.trim() {
        "" => Ok(None),
        name => Zone::parse(name)
            .map(Some)
            .ok_or("Choose a time zone from the list, like America/Chicago, or leave it empty."),
    }
}

pub const DUPLICATE_CONTACT: &str = "A contact with this email already exists.";

async fn show_page(
    state: &AppState,
    page: Page,
    viewer: &CurrentUser,
    id: i64,
    form: ContactForm,
    errors: FieldErrors,
) -> Result<ShowPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let customer = model::find(&mut *conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let may_see_contacts = model::contacts_visible(&mut *conn, viewer, id).await?;
    let contacts = match may_see_contacts {
        true => model::contacts_of(&mut *conn, id).await?,
        false => Vec::new(),
    };
    Ok(ShowPage {
        page,
        customer,
        may_see_contacts,
        contacts,
        form,
        errors,
    })
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(id): Path<i64>,
) -> Result<ShowPage, AppError> {
    show_page(
        &state,
        page,
        &user,
        id,
        ContactForm::default(),
        FieldErrors::default(),
    )
    .await
}

const CONTACTS_SCOPED: &str =
    "Only admins and members of this customer's escalation rooms can see or add its contacts.";

async fn add_contact(
    State(state): State<AppState>,
    user: CurrentUser,
    page: Page,
    Path(id): Path<i64>,
    Form(form): Form<ContactForm>,
) -> Result<Response, AppError> {
    // Checked before the form, and again in the transaction that writes.
    if !model::contacts_visible(state.db.reader(), &user, id).await? {
        return Err(AppError::Forbidden(CONTACTS_SCOPED.into()));
    }
    let added = match form.parse() {
        Ok(contact) => {
            let mut tx = state.db.begin_write().await?;
            model::find(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
            if !model::contacts_visible(&mut *tx, &user, id).await? {
                return Err(AppError::Forbidden(CONTACTS_SCOPED.into()));
            }
            let added = model::insert_contact(&mut tx, id, &contact, state.clock.now()).await?;
            tx.commit().await?;
            added.ok_or_else(|| FieldErrors::single("email", DUPLICATE_CONTACT))
        }
        Err(errors) => Err(errors),
    };
    match added {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}")).into_response()),
        Err(errors) => invalid(show_page(&state, page, &user, id, form, errors).await?),
    }
}
