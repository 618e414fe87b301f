//! One-time links: the setup link that creates the first admin, and set-password links for
//! invited users. Only a digest of each token is stored; a token is consumed in the transaction
//! that uses it, so a link works once even when submitted twice at the same moment.

use std::time::Duration;

use sqlx::AnyConnection;

use crate::clock::{Clock, Millis};
use crate::config::Config;
use crate::db::Db;
use crate::secrets::{digest, random_token};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Setup,
    Password,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Setup => "setup",
            Purpose::Password => "password",
        }
    }

    /// The path of a link for this purpose.
    pub fn path(self, token: &str) -> String {
        match self {
            Purpose::Setup => format!("/setup/{token}"),
            Purpose::Password => format!("/password/{token}"),
        }
    }
}

/// How long a set-password link from an invitation or `accord user add` stays valid.
pub const PASSWORD_LINK_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long the setup link stays valid (a restart prints a new one while there is no user).
const SETUP_LINK_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Stores a new token and returns it (the only time it exists in clear).
pub async fn issue(
    tx: &mut AnyConnection,
    purpose: Purpose,
    user_id: Option<i64>,
    now: Millis,
    lifetime: Duration,
) -> sqlx::Result<String> {
    let token = random_token();
    sqlx::query(
        "INSERT INTO account_tokens (token_hash, purpose, user_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(digest(&token))
    .bind(purpose.as_str())
    .bind(user_id)
    .bind(now)
    .bind(now + lifetime.as_millis() as i64)
    .execute(tx)
    .await?;
    Ok(token)
}

/// A usable token: not used and not expired. `Some(user_id)` (which is `None` for setup links).
pub async fn find_usable(
    conn: &mut AnyConnection,
    purpose: Purpose,
    token: &str,
    now: Millis,
) -> sqlx::Result<Option<Option<i64>>> {
    sqlx::query_scalar(
        "SELECT user_id FROM account_tokens \
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(digest(token))
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Marks a usable token used; `Some(user_id)` when this call was the one that used it.
pub async fn consume(
    tx: &mut AnyConnection,
    purpose: Purpose,
    token: &str,
    now: Millis,
) -> sqlx::Result<Option<Option<i64>>> {
    sqlx::query_scalar(
        "UPDATE account_tokens SET used_at = $1 \
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
         RETURNING user_id",
    )
    .bind(now)
    .bind(digest(token))
    .bind(purpose.as_str())
    .fetch_optional(tx)
    .await
}

/// Makes every unused link of a user unusable (a newer link replaces them).
pub async fn revoke_for_user(
    tx: &mut AnyConnection,
    user_id: i64,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE account_tokens SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(tx)
        .await?;
    Ok(())
}

/// On an empty database, replaces any earlier setup link with a new one and returns its URL.
pub async fn setup_link_if_no_users(
    db: &Db,
    config: &Config,
    clock: &Clock,
) -> sqlx::Result<Option<String>> {
    let mut tx = db.begin_write().await?;
    if super::user::count(&mut tx).await? > 0 {
        return Ok(None);
    }
    let now = clock.now();
    sqlx::query(
        "UPDATE account_tokens SET used_at = $1 WHERE purpose = 'setup' AND used_at IS NULL",
    )
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let token = issue(&mut tx, Purpose::Setup, None, now, SETUP_LINK_LIFETIME).await?;
    tx.commit().await?;
    Ok(Some(config.link(&Purpose::Setup.path(&token))))
}

/// A new set-password link for `user_id`, replacing the user's earlier links.
pub async fn password_link(
    tx: &mut AnyConnection,
    config: &Config,
    user_id: i64,
    now: Millis,
) -> sqlx::Result<String> {
    revoke_for_user(tx, user_id, now).await?;
    let token = issue(
        tx,
        Purpose::Password,
        Some(user_id),
        now,
        PASSWORD_LINK_LIFETIME,
    )
    .await?;
    Ok(config.link(&Purpose::Password.path(&token)))
}
