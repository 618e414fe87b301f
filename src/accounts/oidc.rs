//! Single sign-on with OpenID Connect: the authorization code flow with PKCE and a nonce, done
//! on the server. `/sign-in/oidc` sends the browser to the provider with a fresh state, nonce and
//! PKCE verifier kept in the session; `/sign-in/oidc/callback` accepts only that state, once,
//! exchanges the code (the HTTP client follows no redirects), verifies the ID token (signature,
//! issuer, audience, expiry, nonce) and signs the person in:
//!
//! 1. by their identity (issuer, subject) when it is linked to an active account;
//! 2. else, with a verified email of an existing account that has no identity at this provider
//!    yet, by linking it (once: later sign-ins match on the identity);
//! 3. else, with a verified email in `ACCORD_OIDC_ALLOWED_DOMAINS`, by creating the account.
//!
//! Anyone else is refused with a page that says why. A deactivated account signs in by no door,
//! and deactivation ends its sessions at once as before.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::auth;
use super::oidc_config::OidcConfig;
use super::user::{self, EmailAddress, NewUser, PersonName};
use crate::AppState;
use crate::config::{Config, ConfigError};
use crate::error::AppError;
use crate::web::page::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-in/oidc", get(start))
        .route("/sign-in/oidc/callback", get(callback))
}

/// The provider as discovered at start, and the HTTP client that talks to it.
pub struct Provider {
    pub config: OidcConfig,
    metadata: CoreProviderMetadata,
    http: openidconnect::reqwest::Client,
    redirect: RedirectUrl,
}

/// Discovers the provider named by `ACCORD_OIDC_ISSUER`; a failure names the variable.
pub async fn discover(config: &Config) -> Result<Option<Arc<Provider>>, ConfigError> {
    let Some(oidc) = &config.oidc else {
        return Ok(None);
    };
    let fail = |message: String| ConfigError {
        variable: "ACCORD_OIDC_ISSUER",
        message,
    };
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| fail(format!("no HTTP client ({e})")))?;
    let issuer = IssuerUrl::new(oidc.issuer.as_str().trim_end_matches('/').to_owned())
        .map_err(|e| fail(format!("not a URL ({e})")))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .map_err(|e| {
            fail(format!(
                "discovery at {}/.well-known/openid-configuration failed ({})",
                oidc.issuer.as_str().trim_end_matches('/'),
                error_chain(&e)
            ))
        })?;
    let redirect =
        RedirectUrl::new(config.link("/sign-in/oidc/callback")).map_err(|e| ConfigError {
            variable: "ACCORD_BASE_URL",
            message: format!("no callback address ({e})"),
        })?;
    Ok(Some(Arc::new(Provider {
        config: oidc.clone(),
        metadata,
        http,
        redirect,
    })))
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut words = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        words.push_str(": ");
        words.push_str(&cause.to_string());
        source = cause.source();
    }
    words
}

/// What the session keeps between the redirect and the callback.
#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
}

const PENDING: &str = "oidc_pending";

impl Provider {
    fn client(
        &self,
    ) -> CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect.clone())
    }
}

fn provider(state: &AppState) -> Result<&Arc<Provider>, AppError> {
    state.oidc.as_ref().ok_or(AppError::NotFound)
}

/// Sends the browser to the provider.
async fn start(State(state): State<AppState>, session: Session) -> Result<Redirect, AppError> {
    let provider = provider(&state)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = provider
        .client()
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let pending = Pending {
        state: csrf.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
    };
    session.insert(PENDING, pending).await?;
    Ok(Redirect::to(url.as_str()))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Callback {
    code: String,
    state: String,
    error: String,
    error_description: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/sso_refused.html")]
struct RefusedPage {
    page: Page,
    provider: String,
    why: String,
}

fn refused(page: Page, provider: &Provider, why: impl Into<String>) -> Response {
    let page = RefusedPage {
        page,
        provider: provider.config.name.clone(),
        why: why.into(),
    };
    (StatusCode::FORBIDDEN, page).into_response()
}

/// Who the provider says signed in.
struct Claims {
    issuer: String,
    subject: String,
    email: Option<String>,
    email_verified: bool,
    name: Option<String>,
}

/// Verifies the callback and exchanges the code: the claims, or why not (in words).
async fn verified_claims(
    provider: &Provider,
    pending: Option<Pending>,
    callback: &Callback,
) -> Result<Claims, String> {
    if !callback.error.is_empty() {
        return Err(format!(
            "{} said: {}",
            provider.config.name,
            if callback.error_description.is_empty() {
                &callback.error
            } else {
                &callback.error_description
            }
        ));
    }
    let pending = pending
        .filter(|p| !callback.state.is_empty() && p.state == callback.state)
        .ok_or("This sign-in was not started here, or was already used. Start again.")?;
    let client = provider.client();
    let exchange = client
        .exchange_code(AuthorizationCode::new(callback.code.clone()))
        .map_err(|_| "The provider has no token endpoint.")?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(&provider.http)
        .await
        .map_err(|e| {
            tracing::warn!(error = %error_chain(&e), "OIDC code exchange refused");
            "The provider refused the sign-in code (used already, or expired). Start again."
        })?;
    let id_token = exchange
        .id_token()
        .ok_or("The provider sent no ID token.")?;
    let claims = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(pending.nonce))
        .map_err(|e| {
            tracing::warn!(error = %error_chain(&e), "OIDC ID token refused");
            "The provider's answer did not verify (signature, audience, expiry or nonce)."
        })?;
    let (mut email, mut email_verified) = match provider.config.email_claim.as_str() {
        "email" => (
            claims.email().map(|e| e.as_str().to_owned()),
            claims.email_verified().unwrap_or(false),
        ),
        other => (custom_claim(&id_token.to_string(), other), true),
    };
    // Providers that keep scope claims out of the ID token give them at the userinfo endpoint
    // (for this access token and this subject only).
    if email.is_none()
        && provider.config.email_claim == "email"
        && let Ok(request) = client.user_info(
            exchange.access_token().clone(),
            Some(claims.subject().clone()),
        )
    {
        let info: CoreUserInfoClaims =
            request.request_async(&provider.http).await.map_err(|e| {
                tracing::warn!(error = %error_chain(&e), "OIDC userinfo refused");
                "The provider did not say who you are (userinfo failed)."
            })?;
        email = info.email().map(|e| e.as_str().to_owned());
        email_verified = info.email_verified().unwrap_or(false);
    }
    Ok(Claims {
        issuer: claims.issuer().as_str().to_owned(),
        subject: claims.subject().as_str().to_owned(),
        email,
        email_verified,
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned()),
    })
}

/// A string claim of a verified ID token's payload, by name (for providers whose email claim
/// is not `email`, such as `upn` or `preferred_username`).
fn custom_claim(jwt: &str, name: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    json.get(name)?.as_str().map(str::to_owned)
}

/// Back from the provider.
async fn callback(
    State(state): State<AppState>,
    session: Session,
    page: Page,
    Query(callback): Query<Callback>,
) -> Result<Response, AppError> {
    let provider = provider(&state)?.clone();
    // One use only: a replayed or forged callback finds nothing to match.
    let pending: Option<Pending> = session.remove(PENDING).await?;
    let claims = match verified_claims(&provider, pending, &callback).await {
        Ok(claims) => claims,
        Err(why) => return Ok(refused(page, &provider, why)),
    };
    let now = state.clock.now();
    let account = match account_for(&state, &provider, &claims, now).await? {
        Ok(account) => account,
        Err(why) => return Ok(refused(page, &provider, why)),
    };
    auth::start_session(&session, &account, now).await?;
    tracing::info!(user.id = account.id, "signed in with single sign-on");
    let back: Option<String> = session
        .remove(crate::approvals::link::RETURN_TO)
        .await?
        .filter(|path: &String| path.starts_with("/align/"));
    Ok(Redirect::to(back.as_deref().unwrap_or("/")).into_response())
}

/// The account these claims sign in to, linking or creating it when the rules allow.
async fn account_for(
    state: &AppState,
    provider: &Provider,
    claims: &Claims,
    now: i64,
) -> Result<Result<user::User, String>, AppError> {
    let mut tx = state.db.begin_write().await?;
    let linked: Option<i64> = sqlx::query_scalar(
        "SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2",
    )
    .bind(&claims.issuer)
    .bind(&claims.subject)
    .fetch_optional(&mut *tx)
    .await?;
    let account = match linked {
        Some(id) => user::find(&mut *tx, id).await?,
        None => {
            let Some(email) = claims.email.as_deref().filter(|_| claims.email_verified) else {
                return Ok(Err(format!(
                    "{} did not confirm your email address, so Accord cannot tell which account is yours.",
                    provider.config.name
                )));
            };
            let Ok(email) = EmailAddress::parse(email) else {
                return Ok(Err(
                    "The email address the provider sent is not valid.".into()
                ));
            };
            let existing = user::find_by_email(&mut *tx, email.as_str()).await?;
            let account = match existing {
                Some(account) => {
                    let already: Option<String> = sqlx::query_scalar(
                        "SELECT subject FROM user_identities WHERE issuer = $1 AND user_id = $2",
                    )
                    .bind(&claims.issuer)
                    .bind(account.id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if already.is_some() {
                        return Ok(Err(
                            "This email's account is already linked to another identity at this provider.".into(),
                        ));
                    }
                    account
                }
                None if provider.config.domain_allowed(email.as_str()) => {
                    let fallback = email.as_str().split('@').next().unwrap_or("").to_owned();
                    let name = PersonName::parse(claims.name.as_deref().unwrap_or(&fallback))
                        .or_else(|_| PersonName::parse(&fallback))
                        .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
                    let new = NewUser {
                        email: &email,
                        name: &name,
                        title: "",
                        password_hash: None,
                        is_admin: false,
                    };
                    let Some(id) = user::insert(&mut tx, new, now).await? else {
                        return Ok(Err("Try again: the account was just created.".into()));
                    };
                    tracing::info!(user.id = id, "account created at first single sign-on");
                    user::find(&mut *tx, id)
                        .await?
                        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("user vanished")))?
                }
                None => {
                    return Ok(Err(format!(
                        "There is no Accord account for {}. Ask an administrator to invite you.",
                        email.as_str()
                    )));
                }
            };
            sqlx::query(
                "INSERT INTO user_identities (issuer, subject, user_id, linked_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&claims.issuer)
            .bind(&claims.subject)
            .bind(account.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Some(account)
        }
    };
    let Some(account) = account.filter(|a| a.is_active()) else {
        return Ok(Err(
            "This account is deactivated. Ask an administrator if that is a mistake.".into(),
        ));
    };
    tx.commit().await?;
    Ok(Ok(account))
}

/// The sign-in button's words, when single sign-on is on.
pub fn button(state: &AppState) -> Option<String> {
    state
        .oidc
        .as_ref()
        .map(|p| format!("Sign in with {}", p.config.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_custom_claim_is_read_from_the_token_payload() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"upn":"dana@example.com","n":1}"#);
        let jwt = format!("header.{payload}.signature");
        assert_eq!(
            custom_claim(&jwt, "upn").as_deref(),
            Some("dana@example.com")
        );
        assert_eq!(custom_claim(&jwt, "n"), None, "not a string");
        assert_eq!(custom_claim("garbage", "upn"), None);
    }
}
