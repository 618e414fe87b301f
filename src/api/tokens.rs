//! Personal API tokens: created and revoked by their owner on *Your settings* (and revoked by any
//! administrator), shown once, stored as a SHA-256 digest. A request's bearer token is checked
//! against the database on every request, in one statement with its owner, so revoking a token,
//! letting it expire or deactivating its owner stops it on the very next request, on every
//! instance.

use sqlx::{AnyConnection, Row};

use crate::accounts::CurrentUser;
use crate::clock::Millis;
use crate::secrets;
use crate::text_enum::text_enum;

text_enum! {
    /// What a token may do: read only, or also change things (what its owner may change).
    pub enum Scope {
        Read = "read" => "Read only",
        Write = "write" => "Read and write",
    }
}

/// Every token starts with this, so a leaked one is recognisable (by people and secret scanners).
pub const PREFIX: &str = "accord_";
/// How long `last_used_at` may lag behind: a token used a thousand times a minute writes once.
const LAST_USED_EVERY: Millis = 60_000;
/// The longest name a token may have.
const NAME_MAX: usize = 80;
/// The expiry choices offered, in days (0: never).
pub const EXPIRY_DAYS: &[i64] = &[30, 90, 365, 0];

/// A token as its owner and administrators see it (never its secret).
#[derive(Clone, Debug)]
pub struct Token {
    pub id: i64,
    pub owner: String,
    pub name: String,
    /// Its first characters, to tell tokens apart.
    pub hint: String,
    pub scope: Scope,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
}

impl Token {
    /// Revoked or expired at `now`.
    pub fn is_dead(&self, now: Millis) -> bool {
        self.revoked_at.is_some() || self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A token being created, checked.
#[derive(Debug, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub scope: Scope,
    pub expires_in_days: Option<i64>,
}

impl NewToken {
    /// Checks what the settings form (or anything else) asks for.
    pub fn parse(name: &str, scope: &str, expires_in_days: &str) -> Result<NewToken, String> {
        let name = name.trim();
        if name.is_empty() {
            return Err("Name the token after what will use it, like “CRM integration”.".into());
        }
        if name.chars().count() > NAME_MAX {
            return Err(format!("Keep the name under {NAME_MAX} characters."));
        }
        let scope = Scope::parse(scope).ok_or("Choose read only, or read and write.")?;
        let days: i64 = expires_in_days
            .parse()
            .ok()
            .filter(|d| EXPIRY_DAYS.contains(d))
            .ok_or("Choose when the token expires.")?;
        Ok(NewToken {
            name: name.to_owned(),
            scope,
            expires_in_days: (days > 0).then_some(days),
        })
    }
}

/// A new secret: the prefix and 32 random bytes in hex.
fn new_secret() -> String {
    format!("{PREFIX}{}", secrets::random_token())
}

/// Creates a token for `user_id`; returns its id and its secret, which is shown once and never
/// stored.
pub async fn create(
    conn: &mut AnyConnection,
    user_id: i64,
    new: &NewToken,
    now: Millis,
) -> sqlx::Result<(i64, String)> {
    let secret = new_secret();
    let hint: String = secret.chars().take(PREFIX.len() + 6).collect();
    let id = sqlx::query_scalar(
        "INSERT INTO api_tokens (user_id, name, digest, hint, scope, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(user_id)
    .bind(&new.name)
    .bind(secrets::digest(&secret))
    .bind(hint)
    .bind(new.scope.as_str())
    .bind(now)
    .bind(new.expires_in_days.map(|d| now + d * 86_400_000))
    .fetch_one(conn)
    .await?;
    Ok((id, secret))
}

const COLUMNS: &str = "t.id, u.name, t.name, t.hint, t.scope, t.created_at, t.expires_at, \
                       t.last_used_at, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id";

fn token_from(row: &sqlx::any::AnyRow) -> sqlx::Result<Token> {
    let scope: String = row.try_get(4)?;
    Ok(Token {
        id: row.try_get(0)?,
        owner: row.try_get(1)?,
        name: row.try_get(2)?,
        hint: row.try_get(3)?,
        scope: Scope::parse(&scope).unwrap_or(Scope::Read),
        created_at: row.try_get(5)?,
        expires_at: row.try_get(6)?,
        last_used_at: row.try_get(7)?,
        revoked_at: row.try_get(8)?,
    })
}

/// One person's tokens (`Some(user)`), or everyone's for an administrator (`None`), newest first.
pub async fn list(conn: &mut AnyConnection, owner: Option<i64>) -> sqlx::Result<Vec<Token>> {
    let rows = match owner {
        Some(user_id) => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} WHERE t.user_id = $1 ORDER BY t.id DESC"
            ))
            .bind(user_id)
            .fetch_all(conn)
            .await?
        }
        None => {
            sqlx::query(&format!("SELECT {COLUMNS} ORDER BY t.id DESC LIMIT 500"))
                .fetch_all(conn)
                .await?
        }
    };
    rows.iter().map(token_from).collect()
}

/// Revokes token `id` — the owner's own, or any for an administrator. `false` when there is no
/// such live token for them (already revoked, or not theirs).
pub async fn revoke(
    conn: &mut AnyConnection,
    id: i64,
    by: &CurrentUser,
    now: Millis,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1, revoked_by = $2 \
         WHERE id = $3 AND revoked_at IS NULL AND (user_id = $2 OR $4 = 1)",
    )
    .bind(now)
    .bind(by.id)
    .bind(id)
    .bind(i64::from(by.is_admin))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Who a bearer token speaks for, with what scope — `None` for a token that is unknown,
/// revoked, expired, or whose owner is deactivated.
pub async fn authenticate(
    conn: &mut AnyConnection,
    secret: &str,
    now: Millis,
) -> sqlx::Result<Option<(CurrentUser, Scope)>> {
    if !secret.starts_with(PREFIX) {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT t.id, t.scope, t.last_used_at, u.id, u.name, u.email, u.is_admin, u.time_zone \
         FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.digest = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) \
         AND u.is_active = 1",
    )
    .bind(secrets::digest(secret))
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let token_id: i64 = row.try_get(0)?;
    let scope: String = row.try_get(1)?;
    let last_used: Option<Millis> = row.try_get(2)?;
    if last_used.is_none_or(|at| now - at >= LAST_USED_EVERY) {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(token_id)
            .execute(&mut *conn)
            .await?;
    }
    let user = CurrentUser {
        id: row.try_get(3)?,
        name: row.try_get(4)?,
        email: row.try_get(5)?,
        is_admin: row.try_get::<i64, _>(6)? == 1,
        time_zone: row.try_get(7)?,
        needs_stamp: None,
    };
    Ok(Some((user, Scope::parse(&scope).unwrap_or(Scope::Read))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_needs_a_name_a_scope_and_an_offered_expiry() {
        assert_eq!(
            NewToken::parse("  CRM  ", "write", "90"),
            Ok(NewToken {
                name: "CRM".into(),
                scope: Scope::Write,
                expires_in_days: Some(90),
            })
        );
        assert_eq!(
            NewToken::parse("CI", "read", "0").map(|t| t.expires_in_days),
            Ok(None)
        );
        assert!(NewToken::parse(" ", "read", "30").is_err());
        assert!(NewToken::parse(&"x".repeat(81), "read", "30").is_err());
        assert!(NewToken::parse("CRM", "admin", "30").is_err());
        assert!(NewToken::parse("CRM", "read", "7").is_err());
    }

    #[test]
    fn secrets_are_prefixed_random_and_only_their_digest_is_kept() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 64);
        assert_ne!(a, b);
        assert_ne!(secrets::digest(&a), a);
    }

    #[test]
    fn a_token_is_dead_once_revoked_or_past_its_expiry() {
        let token = Token {
            id: 1,
            owner: "Dana".into(),
            name: "CRM".into(),
            hint: "accord_1a2b3c".into(),
            scope: Scope::Read,
            created_at: 0,
            expires_at: Some(100),
            last_used_at: None,
            revoked_at: None,
        };
        assert!(!token.is_dead(99));
        assert!(token.is_dead(100));
        let revoked = Token {
            expires_at: None,
            revoked_at: Some(5),
            ..token
        };
        assert!(revoked.is_dead(0));
    }
}
