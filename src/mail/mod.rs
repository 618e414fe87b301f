//! Outgoing mail: SMTP through lettre when `ACCORD_SMTP_URL` is set, otherwise `.eml` files under
//! the data directory (shown to admins at `/admin/mail`), and the messages Accord writes.

mod local_inbox;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::emails;
use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::accounts::user::{EmailAddress, PersonName};
use crate::config::Config;

pub use local_inbox::router;

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        /// Replaced by a fresh pool after a send times out: a connection abandoned mid-message
        /// must never be handed to the next send.
        transport: Arc<RwLock<AsyncSmtpTransport<Tokio1Executor>>>,
        url: String,
        server: String,
    },
    Local {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
    },
}

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Mailer> {
        match &config.smtp {
            Some(smtp) => Ok(Mailer::Smtp {
                transport: Arc::new(RwLock::new(smtp_transport(smtp.as_str())?)),
                url: smtp.as_str().to_owned(),
                server: smtp.server(),
            }),
            None => {
                let dir = config.mail_dir();
                std::fs::create_dir_all(&dir)?;
                Ok(Mailer::Local {
                    transport: AsyncFileTransport::new(&dir),
                    dir,
                })
            }
        }
    }

    /// One sentence for start-up output and the admin pages.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp { server, .. } => {
                format!("Email is sent through the SMTP server {server}.")
            }
            Mailer::Local { dir, .. } => format!(
                "No SMTP server is configured: email is written as .eml files to {} instead of \
                 being sent.",
                dir.display()
            ),
        }
    }

    /// The folder of locally written mail, when there is no SMTP server.
    pub fn local_dir(&self) -> Option<&PathBuf> {
        match self {
            Mailer::Local { dir, .. } => Some(dir),
            Mailer::Smtp { .. } => None,
        }
    }

    /// Delivers exact message bytes. The outcome says whether retrying is safe.
    pub async fn send_raw(
        &self,
        from: &str,
        to: &[String],
        raw: &[u8],
        timeout: Duration,
    ) -> Delivered {
        let envelope = match envelope(from, to) {
            Ok(envelope) => envelope,
            Err(error) => return Delivered::Permanent(error),
        };
        let sent = match self {
            Mailer::Smtp { transport, url, .. } => {
                let pool = transport
                    .read()
                    .map(|t| t.clone())
                    .map_err(|_| Delivered::Transient("mailer lock poisoned".into()));
                let pool = match pool {
                    Ok(pool) => pool,
                    Err(outcome) => return outcome,
                };
                let sent = tokio::time::timeout(timeout, pool.send_raw(&envelope, raw)).await;
                if sent.is_err()
                    && let (Ok(fresh), Ok(mut slot)) = (smtp_transport(url), transport.write())
                {
                    *slot = fresh;
                }
                sent.map(|result| result.map(drop).map_err(classify))
            }
            Mailer::Local { transport, .. } => {
                tokio::time::timeout(timeout, transport.send_raw(&envelope, raw))
                    .await
                    .map(|result| {
                        result
                            .map(drop)
                            .map_err(|e| Delivered::Transient(e.to_string()))
                    })
            }
        };
        match sent {
            Ok(Ok(())) => Delivered::Accepted,
            Ok(Err(outcome)) => outcome,
            // The data may have been sent and only the reply is missing: nobody can know.
            Err(_) => Delivered::Unknown(format!(
                "The mail server did not answer within {} seconds after the message was handed over.",
                timeout.as_secs()
            )),
        }
    }
}

/// How one delivery attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// The server replied 250: the message is theirs.
    Accepted,
    /// Safe to try again later (no connection, 4xx).
    Transient(String),
    /// The server refused the message for good (5xx).
    Permanent(String),
    /// The server may or may not have accepted it; only a person can decide.
    Unknown(String),
}

fn smtp_transport(
    url: &str,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, lettre::transport::smtp::Error> {
    Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
        .timeout(Some(Duration::from_secs(10)))
        .build())
}

fn envelope(from: &str, to: &[String]) -> Result<lettre::address::Envelope, String> {
    let parse = |a: &str| {
        a.parse::<lettre::Address>()
            .map_err(|e| format!("bad address in the envelope: {e}"))
    };
    let to = to.iter().map(|a| parse(a)).collect::<Result<Vec<_>, _>>()?;
    let from = if from.is_empty() {
        None
    } else {
        Some(parse(from)?)
    };
    lettre::address::Envelope::new(from, to).map_err(|e| e.to_string())
}

fn classify(error: lettre::transport::smtp::Error) -> Delivered {
    let reply = match error.status() {
        Some(code) => format!("{code} {error}"),
        None => error.to_string(),
    };
    if error.is_permanent() {
        Delivered::Permanent(reply)
    } else {
        Delivered::Transient(reply)
    }
}

/// A new, globally unique Message-ID on the sender's domain, fixed when a message is queued so
/// a resend is recognisably the same message.
pub fn message_id(config: &Config) -> String {
    let domain = config.mail_from.email.domain().to_owned();
    format!("<{}@{domain}>", &crate::secrets::random_token()[..32])
}

/// The invitation to set a password, sent when an admin invites someone.
pub fn invitation(
    config: &Config,
    to: &EmailAddress,
    name: &PersonName,
    inviter: &str,
    link: &str,
) -> anyhow::Result<Message> {
    let to = Mailbox::new(Some(name.as_str().to_owned()), to.as_str().parse()?);
    let headers = Message::builder()
        .from(config.mail_from.clone())
        .to(to)
        .subject("You are invited to Accord")
        .message_id(Some(message_id(config)));
    let invitation = emails::Invitation {
        name: name.as_str(),
        inviter,
        link,
    };
    emails::compose(headers, &invitation)
}
