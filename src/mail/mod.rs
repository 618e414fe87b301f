//! Outgoing mail: SMTP through lettre when `ACCORD_SMTP_URL` is set, otherwise `.eml` files under
//! the data directory (shown to admins at `/admin/mail`), and the messages Accord writes.

mod local_inbox;
mod smtp;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::emails;
use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};

use crate::accounts::user::{EmailAddress, PersonName};
use crate::config::Config;

pub use local_inbox::router;
pub use smtp::SmtpClient;
pub(crate) use smtp::tls_connector;

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        client: Arc<SmtpClient>,
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
                client: Arc::new(SmtpClient::new(smtp.clone(), config.smtp_timeouts)?),
                server: smtp.address(),
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

    /// Delivers exact message bytes. `handover` runs just before the message data is handed
    /// over and says whether to go on. The outcome says whether retrying is safe.
    pub async fn deliver(
        &self,
        from: &str,
        to: &[String],
        raw: &[u8],
        handover: impl Future<Output = bool>,
    ) -> Delivered {
        let envelope = match envelope(from, to) {
            Ok(envelope) => envelope,
            Err(error) => return Delivered::Permanent(error),
        };
        match self {
            Mailer::Smtp { client, .. } => client.deliver(&envelope, raw, handover).await,
            Mailer::Local { transport, .. } => {
                if !handover.await {
                    return Delivered::Transient("The claim on the message was lost.".into());
                }
                match tokio::time::timeout(LOCAL_WRITE_TIMEOUT, transport.send_raw(&envelope, raw))
                    .await
                {
                    Ok(Ok(_)) => Delivered::Accepted,
                    Ok(Err(error)) => Delivered::Transient(error.to_string()),
                    Err(_) => Delivered::Unknown(
                        "Handed over, no answer: writing the message file did not finish.".into(),
                    ),
                }
            }
        }
    }
}

/// How long writing one `.eml` file may take.
const LOCAL_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// How one delivery attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// The server replied 250: the message is theirs.
    Accepted,
    /// Nothing was handed over, or the server asked to try later (4xx): safe to try again.
    Transient(String),
    /// The server refused the message for good (5xx), or retrying cannot help.
    Permanent(String),
    /// The whole message was handed over and no reply came: only a person can decide.
    Unknown(String),
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

/// A new, globally unique Message-ID on the sender's domain, fixed when a message is queued so
/// a resend is recognisably the same message.
pub fn message_id(config: &Config) -> String {
    let domain = config.mail_from.email.domain().to_owned();
    format!("<{}@{domain}>", &crate::secrets::random_token()[..32])
}

/// The headers of an internal email to one person (from Accord, a fresh Message-ID).
pub fn to_person(
    config: &Config,
    name: &str,
    email: &str,
    subject: impl Into<String>,
) -> anyhow::Result<lettre::message::MessageBuilder> {
    let address = email
        .parse()
        .map_err(|e| anyhow::anyhow!("account address: {e}"))?;
    Ok(Message::builder()
        .from(config.mail_from.clone())
        .to(Mailbox::new(Some(name.to_owned()), address))
        .subject(subject.into())
        .message_id(Some(message_id(config))))
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
