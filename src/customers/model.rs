//! Customers (an account: name, email domain) and their contacts, with the typed inputs that
//! describe them and the queries over `customers` and `contacts`.

use sqlx::{Any, AnyConnection, Executor};

use crate::accounts::user::EmailAddress;
use crate::clock::Millis;
use crate::web::time::Zone;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub email_domain: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Contact {
    pub id: i64,
    pub customer_id: i64,
    pub name: String,
    pub email: String,
    pub title: String,
    /// The contact's IANA zone; empty when unknown.
    pub time_zone: String,
}

impl Contact {
    /// The contact's zone, when known.
    pub fn zone(&self) -> Option<Zone> {
        Zone::parse(&self.time_zone)
    }

    /// "Jordan Reyes (IT director)".
    pub fn label(&self) -> String {
        match self.title.is_empty() {
            true => self.name.clone(),
            false => format!("{} ({})", self.name, self.title),
        }
    }
}

/// An email domain like `northwind.example`, lower-cased; empty is allowed.
pub fn parse_domain(raw: &str) -> Result<String, String> {
    let domain = raw.trim().trim_start_matches('@').to_lowercase();
    let valid_label = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if domain.is_empty() || (domain.contains('.') && domain.split('.').all(valid_label)) {
        Ok(domain)
    } else {
        Err("Enter a domain like northwind.example, or leave it empty.".to_owned())
    }
}

/// A new contact's fields, checked.
pub struct NewContact {
    pub name: String,
    pub email: EmailAddress,
    pub title: String,
    pub time_zone: Option<Zone>,
}

pub async fn list<'e>(db: impl Executor<'e, Database = Any>) -> sqlx::Result<Vec<Customer>> {
    sqlx::query_as("SELECT id, name, email_domain FROM customers ORDER BY name_key")
        .fetch_all(db)
        .await
}

/// The customers of the rooms `user_id` is in (for filters; never every customer).
pub async fn of_member<'e>(
    db: impl Executor<'e, Database = Any>,
    user_id: i64,
) -> sqlx::Result<Vec<Customer>> {
    sqlx::query_as(
        "SELECT DISTINCT c.id, c.name, c.email_domain, c.name_key FROM members m \
         JOIN rooms r ON r.id = m.room_id JOIN customers c ON c.id = r.customer_id \
         WHERE m.user_id = $1 ORDER BY c.name_key LIMIT 200",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

pub async fn find<'e>(
    db: impl Executor<'e, Database = Any>,
    id: i64,
) -> sqlx::Result<Option<Customer>> {
    sqlx::query_as("SELECT id, name, email_domain FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Inserts a customer; `None` when one with the same name (ignoring case) exists.
pub async fn insert(
    tx: &mut AnyConnection,
    name: &str,
    email_domain: &str,
    now: Millis,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO customers (name, name_key, email_domain, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (name_key) DO NOTHING RETURNING id",
    )
    .bind(name)
    .bind(name.to_lowercase())
    .bind(email_domain)
    .bind(now)
    .fetch_optional(tx)
    .await
}

const CONTACT_COLUMNS: &str = "id, customer_id, name, email, title, time_zone FROM contacts";

pub async fn contacts_of<'e>(
    db: impl Executor<'e, Database = Any>,
    customer_id: i64,
) -> sqlx::Result<Vec<Contact>> {
    sqlx::query_as(&format!(
        "SELECT {CONTACT_COLUMNS} WHERE customer_id = $1 ORDER BY name, id"
    ))
    .bind(customer_id)
    .fetch_all(db)
    .await
}

/// Whether someone may read and add a customer's contacts: an admin, or a member of a room of
/// that customer. (Anyone may see a customer's name, to open an escalation for it.)
pub async fn contacts_visible<'e>(
    db: impl Executor<'e, Database = Any>,
    viewer: &crate::accounts::CurrentUser,
    customer_id: i64,
) -> sqlx::Result<bool> {
    if viewer.is_admin {
        return Ok(true);
    }
    let member: Option<i64> = sqlx::query_scalar(
        "SELECT m.room_id FROM members m JOIN rooms r ON r.id = m.room_id \
         WHERE m.user_id = $1 AND r.customer_id = $2 LIMIT 1",
    )
    .bind(viewer.id)
    .bind(customer_id)
    .fetch_optional(db)
    .await?;
    Ok(member.is_some())
}

/// Every contact `viewer` may read: all for an admin, otherwise those of the customers of the
/// viewer's rooms.
pub async fn contacts_visible_to<'e>(
    db: impl Executor<'e, Database = Any>,
    viewer: &crate::accounts::CurrentUser,
) -> sqlx::Result<Vec<Contact>> {
    let scope = if viewer.is_admin {
        ""
    } else {
        "WHERE customer_id IN (SELECT r.customer_id FROM members m JOIN rooms r ON r.id = m.room_id \
         WHERE m.user_id = $1)"
    };
    sqlx::query_as(&format!(
        "SELECT {CONTACT_COLUMNS} {scope} ORDER BY customer_id, name, id"
    ))
    .bind(viewer.id)
    .fetch_all(db)
    .await
}

pub async fn find_contact<'e>(
    db: impl Executor<'e, Database = Any>,
    id: i64,
) -> sqlx::Result<Option<Contact>> {
    sqlx::query_as(&format!("SELECT {CONTACT_COLUMNS} WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Inserts a contact; `None` when the email already belongs to a contact.
pub async fn insert_contact(
    tx: &mut AnyConnection,
    customer_id: i64,
    contact: &NewContact,
    now: Millis,
) -> sqlx::Result<Option<i64>> {
    let inserted = sqlx::query_scalar(
        "INSERT INTO contacts (customer_id, name, email, title, time_zone, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(customer_id)
    .bind(&contact.name)
    .bind(contact.email.as_str())
    .bind(&contact.title)
    .bind(contact.time_zone.map_or("", |z| z.name()))
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if inserted.is_some() {
        // The customer's rooms list their contacts with their activity.
        sqlx::query("UPDATE customers SET activity_stamp = activity_stamp + 1 WHERE id = $1")
            .bind(customer_id)
            .execute(tx)
            .await?;
    }
    Ok(inserted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_checked_and_normalised() {
        assert_eq!(
            parse_domain(" @Northwind.Example ").unwrap(),
            "northwind.example"
        );
        assert_eq!(parse_domain("").unwrap(), "");
        for bad in [
            "northwind",
            "north wind.example",
            "-a.example",
            "a..example",
        ] {
            assert!(parse_domain(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
