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
        Command::Inbound => inbound_from_stdin(config).await,
    }
}

/// A command's own exit status (sysexits), with the line to print.
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// sysexits.h: the input was not a usable message; the mail server bounces it.
const EX_DATAERR: u8 = 65;
/// sysexits.h: a temporary failure; the mail server keeps the message and tries again.
const EX_TEMPFAIL: u8 = 75;

/// `accord inbound < message.eml`: files one message through the same pipeline as IMAP and HTTP.
async fn inbound_from_stdin(config: Config) -> anyhow::Result<()> {
    use tokio::io::AsyncReadExt;
    let limit = config.inbound.max_bytes;
    let mut raw = Vec::new();
    let read = tokio::io::stdin()
        .take(limit as u64 + 1)
        .read_to_end(&mut raw)
        .await;
    let tempfail = |message: String| Exit {
        code: EX_TEMPFAIL,
        message,
    };
    if let Err(error) = read {
        return Err(tempfail(format!("cannot read standard input ({error})")).into());
    }
    let db = open_database(&config)
        .await
        .map_err(|e| tempfail(e.to_string()))?;
    let mailer = Mailer::from_config(&config)?;
    let state = crate::AppState::new(db, config, mailer, Clock::system());
    let filed = crate::inbound::file::file(
        &state,
        &raw,
        crate::inbound::model::Source::Pipe,
        crate::inbound::file::Unreadable::Refuse,
    )
    .await;
    state.db.close().await;
    use crate::inbound::file::Outcome;
    match filed {
        Ok(Ok(Outcome::Filed { id, room_id })) => {
            match room_id {
                Some(room) => println!("Filed as message {id} in room {room}."),
                None => println!("Filed as message {id}."),
            }
            Ok(())
        }
        Ok(Ok(Outcome::Unmatched { id })) => {
            println!("Kept as message {id} for an admin: it matched no room.");
            Ok(())
        }
        Ok(Ok(Outcome::AlreadyFiled { id })) => {
            println!("Already filed as message {id}; nothing changed.");
            Ok(())
        }
        Ok(Err(refused)) => Err(Exit {
            code: EX_DATAERR,
            message: refused.to_string(),
        }
        .into()),
        Err(error) => Err(tempfail(format!("cannot file the message now ({error:#})")).into()),
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
/// The handlers are installed here, before the server answers anything: installed lazily (when
/// the future is first polled), a SIGTERM right after the first response could still kill the
/// process with the default action.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async {
            match terminate.as_mut() {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
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
}
