//! The IMAP door: every instance watches `ACCORD_IMAP_URL`'s mailbox. It files each unseen
//! message through the one pipeline and marks it `\Seen` only after the filing committed, so a
//! crash in between files it again on restart — which the dedupe key turns into "already filed".
//! Several instances may race for one message; it is filed once. It waits with IDLE (re-issued
//! every 25 minutes, before RFC 2177's 29-minute limit) and polls where the server lacks IDLE.

use std::time::Duration;

use anyhow::Context;
use async_imap::extensions::idle::IdleResponse;
use async_imap::types::Fetch;
use futures_util::TryStreamExt;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::config::{ImapMailbox, ImapTls};
use super::file::{self, Outcome, Refused, Unreadable};
use super::model::Source;
use crate::AppState;

/// A connection, plain or encrypted.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}

type Session = async_imap::Session<Box<dyn Io>>;

/// How long one IDLE lasts before it is re-issued.
const IDLE_FOR: Duration = Duration::from_secs(25 * 60);
/// How often a server without IDLE is asked.
const POLL_EVERY: Duration = Duration::from_secs(30);
/// Waiting between failed connections grows to this.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Network operations give up after this.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Watches the mailbox until `stop` says so (returns at once when no mailbox is configured).
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let Some(mailbox) = state.config.inbound.imap.clone() else {
        return;
    };
    let mut backoff = Duration::from_secs(1);
    loop {
        match watch(&state, &mailbox, &mut stop).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(
                    mailbox = %mailbox.address(),
                    error = format!("{error:#}"),
                    "inbound IMAP: will reconnect"
                );
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection's life: file what is waiting, then wait for more.
async fn watch(
    state: &AppState,
    mailbox: &ImapMailbox,
    stop: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut session = connect(mailbox).await?;
    tokio::time::timeout(TIMEOUT, session.select(&mailbox.mailbox))
        .await?
        .with_context(|| format!("cannot open the mailbox {:?}", mailbox.mailbox))?;
    let idle = session.capabilities().await?.has_str("IDLE");
    tracing::info!(mailbox = %mailbox.address(), idle, "inbound IMAP: watching");
    loop {
        if *stop.borrow() {
            let _ = session.logout().await;
            return Ok(());
        }
        file_unseen(state, &mut session).await?;
        if !idle {
            tokio::select! {
                _ = tokio::time::sleep(POLL_EVERY) => {}
                _ = stop.changed() => return Ok(()),
            }
            continue;
        }
        let mut handle = session.idle();
        handle.init().await?;
        let (wait, _interrupt) = handle.wait_with_timeout(IDLE_FOR);
        let response = tokio::select! {
            response = wait => response?,
            _ = stop.changed() => return Ok(()),
        };
        if let IdleResponse::ManualInterrupt = response {
            return Ok(());
        }
        session = tokio::time::timeout(TIMEOUT, handle.done()).await??;
    }
}

async fn connect(mailbox: &ImapMailbox) -> anyhow::Result<Session> {
    let tcp = tokio::time::timeout(
        TIMEOUT,
        TcpStream::connect((mailbox.host.as_str(), mailbox.port)),
    )
    .await
    .context("timed out connecting")?
    .context("cannot connect")?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = match mailbox.tls {
        ImapTls::Implicit => Box::new(tls(mailbox, tcp).await?),
        ImapTls::None => Box::new(tcp),
        ImapTls::StartTls => {
            let mut client = async_imap::Client::new(tcp);
            client.read_response().await?.context("no greeting")?;
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .context("the server refused STARTTLS")?;
            Box::new(tls(mailbox, client.into_inner()).await?)
        }
    };
    let mut client = async_imap::Client::new(stream);
    if mailbox.tls != ImapTls::StartTls {
        client.read_response().await?.context("no greeting")?;
    }
    let session = tokio::time::timeout(TIMEOUT, client.login(&mailbox.user, &mailbox.password))
        .await
        .context("timed out signing in")?
        .map_err(|(error, _)| error)
        .context("the server refused the user name or password")?;
    Ok(session)
}

async fn tls(
    mailbox: &ImapMailbox,
    tcp: TcpStream,
) -> anyhow::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let connector = crate::mail::tls_connector(mailbox.ca_pem.as_deref())?;
    let name = ServerName::try_from(mailbox.host.clone())?;
    let mut stream = connector.connect(name, tcp).await.context("TLS failed")?;
    stream.flush().await?;
    Ok(stream)
}

/// Files every unseen message, oldest first, marking each seen once it is stored.
async fn file_unseen(state: &AppState, session: &mut Session) -> anyhow::Result<()> {
    let mut uids: Vec<u32> = session.uid_search("UNSEEN").await?.into_iter().collect();
    uids.sort_unstable();
    let limit = state.config.inbound.max_bytes;
    for uid in uids {
        let sizes: Vec<Fetch> = session
            .uid_fetch(uid.to_string(), "(UID RFC822.SIZE)")
            .await?
            .try_collect()
            .await?;
        let size = sizes.iter().find_map(|f| f.size).unwrap_or(0) as usize;
        let outcome = if size > limit {
            let headers: Vec<Fetch> = session
                .uid_fetch(uid.to_string(), "BODY.PEEK[HEADER]")
                .await?
                .try_collect()
                .await?;
            let header = headers.iter().find_map(|f| f.header()).unwrap_or_default();
            let why = format!(
                "the message is {size} bytes, over ACCORD_INBOUND_MAX_BYTES ({limit}); it stays in the mailbox (only its headers are kept here)"
            );
            file::keep_unreadable(state, header, Source::Imap, &why).await?
        } else {
            let fetched: Vec<Fetch> = session
                .uid_fetch(uid.to_string(), "BODY.PEEK[]")
                .await?
                .try_collect()
                .await?;
            let Some(raw) = fetched.iter().find_map(|f| f.body()) else {
                continue;
            };
            match file::file(state, raw, Source::Imap, Unreadable::Keep).await? {
                Ok(outcome) => outcome,
                Err(Refused::TooLarge { .. }) | Err(Refused::Unparsable(_)) => {
                    file::keep_unreadable(state, raw, Source::Imap, "unreadable").await?
                }
            }
        };
        // Stored (or found stored): only now is the message marked seen.
        let _: Vec<Fetch> = session
            .uid_store(uid.to_string(), "+FLAGS.SILENT (\\Seen)")
            .await?
            .try_collect()
            .await?;
        if let Outcome::AlreadyFiled { .. } = outcome {
            tracing::debug!(uid, "inbound IMAP: already filed");
        }
    }
    Ok(())
}
