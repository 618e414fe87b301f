//! `accord demo`: loads the people of the demo story and the Northwind Logistics escalation, and
//! prints the people's sign-in credentials. Running it again resets the demo passwords and leaves
//! the room as it is.

mod northwind;

use crate::accounts::password::Password;
use crate::accounts::user::{self, EmailAddress, NewUser, PersonName};
use crate::clock::Clock;
use crate::config::Config;
use crate::secrets::random_token;
use crate::startup::open_database;

/// A demo account: email, name, title, administrator.
struct DemoPerson {
    email: &'static str,
    name: &'static str,
    title: &'static str,
    admin: bool,
}

const PEOPLE: [DemoPerson; 6] = [
    DemoPerson {
        email: "dana.whitfield@accord.example",
        name: "Dana Whitfield",
        title: "Product manager, capacity telemetry",
        admin: false,
    },
    DemoPerson {
        email: "sam.okafor@accord.example",
        name: "Sam Okafor",
        title: "Product manager, customer experience",
        admin: false,
    },
    DemoPerson {
        email: "lee.park@accord.example",
        name: "Lee Park",
        title: "Sales engineer",
        admin: false,
    },
    DemoPerson {
        email: "ravi.menon@accord.example",
        name: "Ravi Menon",
        title: "Engineering manager",
        admin: false,
    },
    DemoPerson {
        email: "elena.vasquez@accord.example",
        name: "Elena Vasquez",
        title: "Director of product",
        admin: false,
    },
    DemoPerson {
        email: "morgan.blake@accord.example",
        name: "Morgan Blake",
        title: "Administrator",
        admin: true,
    },
];

pub async fn load(config: &Config, clock: &Clock) -> anyhow::Result<()> {
    let db = open_database(config).await?;
    let now = clock.now();
    let mut credentials = Vec::new();
    let mut ids = Vec::new();
    for person in &PEOPLE {
        let password = random_token()[..16].to_owned();
        let hash = Password::parse(password.clone(), &password)
            .map_err(|e| anyhow::anyhow!(e))?
            .hash()
            .await?;
        let email = EmailAddress::parse(person.email).map_err(|e| anyhow::anyhow!(e))?;
        let name = PersonName::parse(person.name).map_err(|e| anyhow::anyhow!(e))?;
        let mut tx = db.begin_write().await?;
        let new_user = NewUser {
            email: &email,
            name: &name,
            title: person.title,
            password_hash: Some(&hash),
            is_admin: person.admin,
        };
        let id = match user::insert(&mut tx, new_user, now).await? {
            Some(id) => id,
            None => {
                let existing = user::find_by_email(&mut *tx, email.as_str())
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("demo user vanished"))?;
                user::set_password(&mut tx, existing.id, &hash).await?;
                user::set_active(&mut tx, existing.id, true).await?;
                existing.id
            }
        };
        tx.commit().await?;
        ids.push(id);
        credentials.push((person, password));
    }
    let people = northwind::People {
        dana: ids[0],
        sam: ids[1],
        lee: ids[2],
        ravi: ids[3],
        elena: ids[4],
    };
    let room = northwind::load(&db, &people, now).await?;
    let state = crate::AppState::new(
        db.clone(),
        config.clone(),
        crate::mail::Mailer::from_config(config)?,
        clock.clone(),
    );
    northwind::reply_from_jordan(&state, room, people.sam).await?;
    db.close().await;
    println!(
        "Demo loaded: the Northwind Logistics escalation ({}).",
        config.link(&format!("/rooms/{room}"))
    );
    println!();
    println!("DEMO CREDENTIALS (for trying Accord only; run `accord demo` again to reset them):");
    for (person, password) in credentials {
        println!(
            "  {:<32} {:<18} {:<38} {}",
            person.email, person.name, person.title, password
        );
    }
    println!();
    println!("Sign in at {}", config.link("/sign-in"));
    Ok(())
}
