//! Customers and their contacts: the directory pages, and adding either on its own (the
//! escalation form can also create them inline).

pub mod model;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::AppState;
use crate::accounts::CurrentUser;
use crate::accounts::user::EmailAddress;
use crate::error::AppError;
use crate::web::forms::{FieldErrors, Form};
use crate::web::page::Page;
use model::{Contact, Customer, NewContact, optional_text, parse_domain, required_text};

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

async fn create(
    State(state): State<AppState>,
    _user: CurrentUser,
    page: Page,
    Form(form): Form<CustomerForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let name = required_text(&form.name, 120, "Enter the customer's name.")
        .map_err(|e| errors.add("name", e))
        .ok();
    let domain = parse_domain(&form.email_domain)
        .map_err(|e| errors.add("email_domain", e))
        .ok();
    if let (Some(name), Some(domain)) = (name, domain) {
        let mut tx = state.db.begin_write().await?;
        if let Some(id) = model::insert(&mut tx, &name, &domain, state.clock.now()).await? {
            tx.commit().await?;
            return Ok(Redirect::to(&format!("/customers/{id}")).into_response());
        }
        errors.add("name", "There is already a customer with this name.");
    }
    let customers = model::list(state.db.reader()).await?;
    let page = IndexPage {
        page,
        customers,
        form,
        errors,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/show.html")]
struct ShowPage {
    page: Page,
    customer: Customer,
    contacts: Vec<Contact>,
    form: ContactForm,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ContactForm {
    pub name: String,
    pub email: String,
    pub title: String,
}

impl ContactForm {
    /// Checks the fields, adding messages under `prefix`-named fields.
    pub fn parse(&self, errors: &mut FieldErrors, fields: [&'static str; 3]) -> Option<NewContact> {
        let name = required_text(&self.name, 120, "Enter the contact's name.")
            .map_err(|e| errors.add(fields[0], e))
            .ok();
        let email = EmailAddress::parse(&self.email)
            .map_err(|e| errors.add(fields[1], e))
            .ok();
        let title = optional_text(&self.title, 120)
            .map_err(|e| errors.add(fields[2], e))
            .ok();
        Some(NewContact {
            name: name?,
            email: email?,
            title: title?,
        })
    }
}

pub const DUPLICATE_CONTACT: &str = "A contact with this email already exists.";

async fn show_page(
    state: &AppState,
    page: Page,
    id: i64,
    form: ContactForm,
    errors: FieldErrors,
) -> Result<ShowPage, AppError> {
    let mut conn = state.db.reader().acquire().await?;
    let customer = model::find(&mut *conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let contacts = model::contacts_of(&mut *conn, id).await?;
    Ok(ShowPage {
        page,
        customer,
        contacts,
        form,
        errors,
    })
}

async fn show(
    State(state): State<AppState>,
    _user: CurrentUser,
    page: Page,
    Path(id): Path<i64>,
) -> Result<ShowPage, AppError> {
    show_page(
        &state,
        page,
        id,
        ContactForm::default(),
        FieldErrors::default(),
    )
    .await
}

async fn add_contact(
    State(state): State<AppState>,
    _user: CurrentUser,
    page: Page,
    Path(id): Path<i64>,
    Form(form): Form<ContactForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    if let Some(contact) = form.parse(&mut errors, ["name", "email", "title"]) {
        let mut tx = state.db.begin_write().await?;
        model::find(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
        if model::insert_contact(&mut tx, id, &contact, state.clock.now())
            .await?
            .is_some()
        {
            tx.commit().await?;
            return Ok(Redirect::to(&format!("/customers/{id}")).into_response());
        }
        errors.add("email", DUPLICATE_CONTACT);
    }
    let page = show_page(&state, page, id, form, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
