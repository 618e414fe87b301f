//! Outgoing mail: SMTP through lettre when `ACCORD_SMTP_URL` is set, otherwise `.eml` files under
//! the data directory (shown to admins at `/admin/mail`), and the messages Accord writes.

mod local_inbox;

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::accounts::user::{EmailAddress, PersonName};
use crate::config::Config;

pub use local_inbox::router;

/// lettre's own timeout covers only the TCP connect; a server that takes the data and never
/// answers would otherwise hold a send forever.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
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
                transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp.as_str())?
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
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

    pub async fn send(&self, message: Message) -> anyhow::Result<()> {
        let sent = match self {
            Mailer::Smtp { transport, .. } => {
                tokio::time::timeout(SEND_TIMEOUT, transport.send(message))
                    .await
                    .map(|result| result.map(drop).map_err(anyhow::Error::from))
            }
            Mailer::Local { transport, .. } => {
                tokio::time::timeout(SEND_TIMEOUT, transport.send(message))
                    .await
                    .map(|result| result.map(drop).map_err(anyhow::Error::from))
            }
        };
        sent.unwrap_or_else(|_| Err(anyhow::anyhow!("the mail server did not answer in time")))
    }
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
    let body = format!(
        "Hello {name},\n\n\
         {inviter} invited you to Accord, where your team coordinates customer escalations.\n\n\
         Choose your password here (the link works once and expires in 7 days):\n\n\
         {link}\n\n\
         Your sign-in name is your email address.\n",
        name = name.as_str(),
    );
    Ok(Message::builder()
        .from(config.mail_from.clone())
        .to(to)
        .subject("You are invited to Accord")
        .header(ContentType::TEXT_PLAIN)
        .body(body)?)
}
