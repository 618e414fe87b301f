//! The commands behind `accord`: serve (the default), `user add`, `demo` and `reindex`.

use tokio::net::TcpListener;

use crate::accounts::token;
use crate::accounts::user::{self, EmailAddress, NewUser, PersonName};
use crate::clock::Clock;
use crate::config::{Command, Config, ConfigError, UserCommand};
use crate::questions::reindex;
use crate::startup::{Application, open_database};
use crate::{demo, mail::Mailer};

pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config).await,
        Command::User(UserCommand::Add { email, name, admin }) => {
            add_user(config, &email, &name, admin).await
        }
        Command::Demo => demo::load(&config, &Clock::system()).await,
        Command::Reindex => reindex_questions(config).await,
    }
}

async fn reindex_questions(config: Config) -> anyhow::Result<()> {
    let db = open_database(&config).await?;
    let rebuilt = reindex::reindex(&db, Clock::system().now()).await?;
    db.close().await;
    let plural = if rebuilt == 1 { "" } else { "s" };
    println!("Rebuilt the similarity terms of {rebuilt} question{plural}.");
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|e| ConfigError {
            variable: "ACCORD_BIND",
            message: format!("cannot listen on {} ({e})", config.bind),
        })?;
    let base_url = config.base_url.clone();
    let app = Application::build(config, Clock::system(), listener).await?;
    println!("Accord is running at {base_url}");
    println!("{}", app.state().mailer.describe());
    if let Some(link) = app.setup_link() {
        println!();
        println!(
            "No account exists yet. Open this one-time link to create the first administrator:"
        );
        println!("  {link}");
        println!();
    }
    app.run(shutdown_signal()).await?;
    println!("Accord stopped.");
    Ok(())
}

async fn add_user(config: Config, email: &str, name: &str, admin: bool) -> anyhow::Result<()> {
    let email = EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let name = PersonName::parse(name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    let db = open_database(&config).await?;
    let now = Clock::system().now();
    let mut tx = db.begin_write().await?;
    let new_user = NewUser {
        email: &email,
        name: &name,
        title: "",
        password_hash: None,
        is_admin: admin,
    };
    let Some(user_id) = user::insert(&mut tx, new_user, now).await? else {
        anyhow::bail!("there is already an account with that email");
    };
    let link = token::password_link(&mut tx, &config, user_id, now).await?;
    tx.commit().await?;
    db.close().await;
    let role = if admin { "administrator" } else { "user" };
    println!("Created {role} {}.", name.as_str());
    println!("One-time link to set the password (valid for 7 days):");
    println!("  {link}");
    // Touch the mailer so a misconfigured SMTP URL is reported now rather than at first send.
    Mailer::from_config(&config)?;
    Ok(())
}

/// Completes on ctrl-c or SIGTERM; the server then stops accepting and finishes in-flight work.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
