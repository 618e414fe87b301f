//! Users: the typed form inputs that describe one, and the queries over the `users` table.

use sqlx::{Any, AnyConnection, Executor};

use crate::clock::Millis;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub title: String,
    pub password_hash: Option<String>,
    is_admin: i64,
    is_active: i64,
    pub created_at: Millis,
    pub time_zone: Option<String>,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.is_admin == 1
    }

    pub fn is_active(&self) -> bool {
        self.is_active == 1
    }

    /// Invited users have no password until they follow their link.
    pub fn has_password(&self) -> bool {
        self.password_hash.is_some()
    }
}

/// A syntactically valid email address, trimmed and lower-cased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<EmailAddress, &'static str> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("Enter an email address.");
        }
        if email.len() > 254 || email.parse::<lettre::Address>().is_err() {
            return Err("Enter an email address like name@example.com.");
        }
        Ok(EmailAddress(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's display name: 1 to 100 characters after trimming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<PersonName, &'static str> {
        let name = raw.trim();
        match name.chars().count() {
            0 => Err("Enter a name."),
            1..=100 => Ok(PersonName(name.to_owned())),
            _ => Err("Use at most 100 characters."),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub struct NewUser<'a> {
    pub email: &'a EmailAddress,
    pub name: &'a PersonName,
    pub title: &'a str,
    pub password_hash: Option<&'a str>,
    pub is_admin: bool,
}

const COLUMNS: &str =
    "id, email, name, title, password_hash, is_admin, is_active, created_at, time_zone FROM users";

pub async fn find<'e>(
    db: impl Executor<'e, Database = Any>,
    id: i64,
) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn find_by_email<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &str,
) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} WHERE email = $1"))
        .bind(email.trim().to_lowercase())
        .fetch_optional(db)
        .await
}

pub async fn list<'e>(db: impl Executor<'e, Database = Any>) -> sqlx::Result<Vec<User>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} ORDER BY is_active DESC, name, id"
    ))
    .fetch_all(db)
    .await
}

/// Everyone who can be added to a room.
pub async fn list_active<'e>(db: impl Executor<'e, Database = Any>) -> sqlx::Result<Vec<User>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} WHERE is_active = 1 ORDER BY name, id"
    ))
    .fetch_all(db)
    .await
}

/// Active people whose name, email or title contains `query` (any case), except `excluded`,
/// by name: at most `limit`. An empty query lists the first ones by name.
pub async fn search_active(
    db: &mut AnyConnection,
    query: &str,
    excluded: &[i64],
    limit: i64,
) -> sqlx::Result<Vec<User>> {
    let pattern = format!(
        "%{}%",
        query.trim().to_lowercase().replace(['%', '_', '\\'], "")
    );
    // The excluded ids are numbers, spliced in as such: at most a few dozen picked people.
    let excluded: Vec<String> = excluded.iter().map(i64::to_string).collect();
    let not_in = match excluded.is_empty() {
        true => String::new(),
        false => format!("AND id NOT IN ({})", excluded.join(", ")),
    };
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} WHERE is_active = 1 {not_in} \
         AND (LOWER(name) LIKE $1 OR LOWER(email) LIKE $1 OR LOWER(title) LIKE $1) \
         ORDER BY name, id LIMIT $2"
    ))
    .bind(pattern)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The active users with these ids, by name.
/// The ids of every active administrator.
pub async fn active_admins(db: &mut AnyConnection) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT id FROM users WHERE is_admin = 1 AND is_active = 1 ORDER BY id")
        .fetch_all(db)
        .await
}

pub async fn active_among(db: &mut AnyConnection, ids: &[i64]) -> sqlx::Result<Vec<User>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} WHERE is_active = 1 AND id IN ({}) ORDER BY name, id",
        ids.join(", ")
    ))
    .fetch_all(db)
    .await
}

/// How many people are active.
pub async fn count_active(db: &mut AnyConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_active = 1")
        .fetch_one(db)
        .await
}

pub async fn count(db: &mut AnyConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db)
        .await
}

/// Inserts a user; `None` when the email is already taken.
pub async fn insert(
    tx: &mut AnyConnection,
    user: NewUser<'_>,
    now: Millis,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO users (email, name, title, password_hash, is_admin, is_active, created_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6) ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(user.email.as_str())
    .bind(user.name.as_str())
    .bind(user.title)
    .bind(user.password_hash)
    .bind(i64::from(user.is_admin))
    .bind(now)
    .fetch_optional(tx)
    .await
}

pub async fn set_password(tx: &mut AnyConnection, id: i64, hash: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id)
        .execute(tx)
        .await?;
    Ok(())
}

/// Activates or deactivates a user; `false` when there is no such user.
pub async fn set_active(tx: &mut AnyConnection, id: i64, active: bool) -> sqlx::Result<bool> {
    let result = sqlx::query("UPDATE users SET is_active = $1 WHERE id = $2")
        .bind(i64::from(active))
        .bind(id)
        .execute(tx)
        .await?;
    Ok(result.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_normalised_and_checked() {
        assert_eq!(
            EmailAddress::parse("  Dana@Example.COM ").unwrap().as_str(),
            "dana@example.com"
        );
        for bad in ["", "dana", "dana@", "@example.com", "da na@example.com"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  Dana ").unwrap().as_str(), "Dana");
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
    }
}
