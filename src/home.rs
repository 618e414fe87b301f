//! `/`: the signed-in start page. Signed-out visitors are sent to the sign-in page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::routing::get;

use crate::AppState;
use crate::accounts::CurrentUser;
use crate::web::page::Page;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(show))
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    page: Page,
    user: CurrentUser,
}

async fn show(user: CurrentUser, page: Page) -> HomePage {
    HomePage { page, user }
}
