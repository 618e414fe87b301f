//! Delivery through an SMTP server, one step at a time over lettre's `AsyncSmtpConnection`, so
//! every failure is known by its phase: before the end of the message data was written, nothing
//! was handed over (retry, or fail by the server's reply); after it and before the server's
//! reply, nobody can know (delivery unknown). Each phase has its own timeout. A [`Probe`] under
//! lettre's connection notices the moment the data is complete: lettre writes and flushes the
//! whole message before it reads the reply, so the first read after the data began is that
//! moment. Connections are pooled; one that failed in any way is never reused.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::Delivered;
use crate::config::{Security, SmtpServer, SmtpTimeouts};

/// Idle connections kept for the next message.
const MAX_IDLE: usize = 32;
/// An idle connection older than this is closed rather than reused (servers drop idle clients).
const IDLE_FOR: Duration = Duration::from_secs(50);

/// The SMTP client: the server's settings, the trust they need, and the idle connections.
pub struct SmtpClient {
    server: SmtpServer,
    timeouts: SmtpTimeouts,
    hello: ClientId,
    starttls: Option<TlsParameters>,
    implicit: Option<tokio_rustls::TlsConnector>,
    idle: Mutex<Vec<Open>>,
}

impl fmt::Debug for SmtpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpClient")
            .field("server", &self.server.address())
            .finish_non_exhaustive()
    }
}

/// An open, greeted (and, as configured, encrypted and authenticated) connection.
struct Open {
    connection: AsyncSmtpConnection,
    probe: Arc<Handover>,
    idle_since: Instant,
}

/// How far one transaction got when it stopped.
enum Stop {
    /// The whole exchange ended with this outcome.
    Outcome(Delivered),
    /// A reused connection failed before the server said anything about this message: the
    /// server closed it while idle, so a fresh connection is tried once.
    Stale,
}

impl SmtpClient {
    pub fn new(server: SmtpServer, timeouts: SmtpTimeouts) -> anyhow::Result<SmtpClient> {
        let roots = extra_roots(server.ca_pem.as_deref())?;
        let starttls = match server.security {
            Security::StartTls { .. } => {
                let mut builder = TlsParameters::builder(server.host.clone());
                for root in &roots {
                    builder = builder.add_root_certificate(Certificate::from_der(root.to_vec())?);
                }
                Some(builder.build_rustls()?)
            }
            _ => None,
        };
        let implicit = match server.security {
            Security::Implicit => Some(implicit_tls(&roots)?),
            _ => None,
        };
        Ok(SmtpClient {
            server,
            timeouts,
            hello: ClientId::default(),
            starttls,
            implicit,
            idle: Mutex::default(),
        })
    }

    /// Delivers `raw` to the envelope. `handover` runs just before the DATA command and says
    /// whether to go on (the outbox's durable "about to hand over" mark); when it says no,
    /// nothing is sent.
    pub async fn deliver(
        &self,
        envelope: &Envelope,
        raw: &[u8],
        handover: impl Future<Output = bool>,
    ) -> Delivered {
        let mut handover = Some(handover);
        loop {
            let (mut open, reused) = match self.take_idle() {
                Some(open) => (open, true),
                None => match self.connect().await {
                    Ok(open) => (open, false),
                    Err(outcome) => return outcome,
                },
            };
            match self.transact(&mut open, envelope, raw, &mut handover).await {
                Stop::Outcome(Delivered::Accepted) => {
                    self.put_idle(open);
                    return Delivered::Accepted;
                }
                // A failed connection is dropped, not quit: QUIT would wait on a server that
                // may never answer again.
                Stop::Outcome(outcome) => return outcome,
                Stop::Stale if reused => continue,
                Stop::Stale => {
                    return Delivered::Transient("The mail server closed the connection.".into());
                }
            }
        }
    }

    async fn transact(
        &self,
        open: &mut Open,
        envelope: &Envelope,
        raw: &[u8],
        handover: &mut Option<impl Future<Output = bool>>,
    ) -> Stop {
        let command = self.timeouts.command;
        let connection = &mut open.connection;
        let parameters = match mail_parameters(connection, envelope, raw) {
            Ok(parameters) => parameters,
            Err(outcome) => return Stop::Outcome(outcome),
        };
        let mail = Mail::new(envelope.from().cloned(), parameters);
        match within(command, "MAIL FROM", connection.command(mail)).await {
            Ok(_) => {}
            Err(Failure::Smtp(error)) if error.status().is_none() => return Stop::Stale,
            Err(failure) => return Stop::Outcome(failure.before_data()),
        }
        for to in envelope.to() {
            let rcpt = Rcpt::new(to.clone(), Vec::new());
            if let Err(failure) = within(command, "RCPT TO", connection.command(rcpt)).await {
                return Stop::Outcome(failure.before_data());
            }
        }
        let go_on = match handover.take() {
            Some(mark) => mark.await,
            None => false,
        };
        if !go_on {
            return Stop::Outcome(Delivered::Transient(
                "This worker lost its claim on the message before handing it over.".into(),
            ));
        }
        if let Err(failure) = within(command, "DATA", connection.command(Data)).await {
            return Stop::Outcome(failure.before_data());
        }
        open.probe.arm();
        Stop::Outcome(send_data(connection, &open.probe, raw, self.timeouts).await)
    }

    fn take_idle(&self) -> Option<Open> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(open) = idle.pop() {
            if open.idle_since.elapsed() < IDLE_FOR && !open.connection.has_broken() {
                return Some(open);
            }
        }
        None
    }

    fn put_idle(&self, mut open: Open) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            open.idle_since = Instant::now();
            idle.push(open);
        }
    }

    /// A fresh connection: TCP, implicit TLS or STARTTLS as configured, EHLO, AUTH.
    async fn connect(&self) -> Result<Open, Delivered> {
        let (connect, command) = (self.timeouts.connect, self.timeouts.command);
        let address = self.server.address();
        let tcp = match tokio::time::timeout(connect, TcpStream::connect(&address)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(error)) => {
                return Err(Delivered::Transient(format!(
                    "Could not connect to the mail server {address}: {}.",
                    io_reason(&error)
                )));
            }
            Err(_) => {
                return Err(Delivered::Transient(format!(
                    "The mail server {address} did not accept a connection within {} seconds.",
                    connect.as_secs()
                )));
            }
        };
        let _ = tcp.set_nodelay(true);
        let peer = tcp
            .peer_addr()
            .map_err(|e| Delivered::Transient(e.to_string()))?;
        let handover = Arc::new(Handover::default());
        let encrypted_from_start = self.implicit.is_some();
        let stream: Box<dyn AsyncTokioStream> = match &self.implicit {
            Some(tls) => {
                let name = ServerName::try_from(self.server.host.clone())
                    .map_err(|e| Delivered::Permanent(format!("Bad mail server name: {e}.")))?;
                let encrypted = within_io(command, tls.connect(name, tcp))
                    .await
                    .map_err(|error| tls_failure(&address, &error))?;
                Box::new(Probe::new(encrypted, peer, handover.clone()))
            }
            None => Box::new(Probe::new(tcp, peer, handover.clone())),
        };
        let greeted = AsyncSmtpConnection::connect_with_transport(stream, &self.hello);
        let mut connection = within(command, "the greeting", greeted)
            .await
            .map_err(Failure::before_data)?;
        if let (Security::StartTls { required }, Some(tls)) = (self.server.security, &self.starttls)
        {
            if connection.can_starttls() {
                let upgrade = connection.starttls(tls.clone(), &self.hello);
                within(command, "STARTTLS", upgrade)
                    .await
                    .map_err(|failure| match failure {
                        Failure::Smtp(error) if error.status().is_none() => {
                            tls_failure(&address, &error)
                        }
                        other => other.before_data(),
                    })?;
            } else if required {
                return Err(Delivered::Permanent(format!(
                    "The mail server {address} does not offer STARTTLS, which the SMTP URL requires (tls=required)."
                )));
            }
        }
        if let Some(credentials) = &self.server.credentials {
            // lettre knows of its own STARTTLS only; implicit TLS lies under the probe.
            if !(encrypted_from_start || connection.is_encrypted()) {
                return Err(Delivered::Permanent(
                    "The SMTP URL has a user name and password, but the connection is not encrypted: \
                     Accord does not send a password in the clear. Use smtps:// or ?tls=required."
                        .into(),
                ));
            }
            let credentials = Credentials::new(credentials.0.clone(), credentials.1.clone());
            let auth = connection.auth(&[Mechanism::Plain, Mechanism::Login], &credentials);
            within(command, "AUTH", auth)
                .await
                .map_err(Failure::before_data)?;
        }
        Ok(Open {
            connection,
            probe: handover,
            idle_since: Instant::now(),
        })
    }
}

/// Writes the message data and waits for the reply, each within its own timeout.
async fn send_data(
    connection: &mut AsyncSmtpConnection,
    probe: &Handover,
    raw: &[u8],
    timeouts: SmtpTimeouts,
) -> Delivered {
    let sending = connection.message(raw);
    let mut sending = std::pin::pin!(sending);
    // Phase one: until the end of the data is written.
    let written = tokio::time::timeout(timeouts.command, async {
        tokio::select! {
            biased;
            result = &mut sending => Some(result),
            () = probe.complete() => None,
        }
    })
    .await;
    let result = match written {
        Err(_) if !probe.is_complete() => {
            return Delivered::Transient(format!(
                "The mail server did not take the message data within {} seconds; it was not handed over.",
                timeouts.command.as_secs()
            ));
        }
        Ok(Some(result)) => result,
        // Phase two: the whole message is with the server; only its reply is missing.
        Err(_) | Ok(None) => match tokio::time::timeout(timeouts.reply, &mut sending).await {
            Ok(result) => result,
            Err(_) => {
                return Delivered::Unknown(format!(
                    "Handed over, no answer: the mail server took the whole message but did not reply within {} seconds.",
                    timeouts.reply.as_secs()
                ));
            }
        },
    };
    match result {
        Ok(_) => Delivered::Accepted,
        Err(error) if error.status().is_some() => classify(&error),
        Err(error) if probe.is_complete() => Delivered::Unknown(format!(
            "Handed over, no answer: the mail server took the whole message, then the connection ended before its reply ({}).",
            error_reason(&error)
        )),
        Err(error) => Delivered::Transient(format!(
            "The connection ended while the message was being written; it was not handed over ({}).",
            error_reason(&error)
        )),
    }
}

/// Why a step before the data was complete failed.
enum Failure {
    Smtp(lettre::transport::smtp::Error),
    TimedOut(&'static str, Duration),
}

impl Failure {
    /// Nothing was handed over: retry, unless the server refused for good.
    fn before_data(self) -> Delivered {
        match self {
            Failure::Smtp(error) if error.status().is_some() => classify(&error),
            Failure::Smtp(error) => Delivered::Transient(format!(
                "The mail server connection failed before the message was handed over ({}).",
                error_reason(&error)
            )),
            Failure::TimedOut(step, limit) => Delivered::Transient(format!(
                "The mail server did not answer {step} within {} seconds; the message was not handed over.",
                limit.as_secs()
            )),
        }
    }
}

async fn within<T>(
    limit: Duration,
    step: &'static str,
    future: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(limit, future).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(Failure::Smtp(error)),
        Err(_) => Err(Failure::TimedOut(step, limit)),
    }
}

async fn within_io<T>(
    limit: Duration,
    future: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    tokio::time::timeout(limit, future)
        .await
        .unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "TLS handshake timed out",
            ))
        })
}

/// The server's reply to a refused step: 5xx is for good, 4xx is worth another try.
fn classify(error: &lettre::transport::smtp::Error) -> Delivered {
    let reply = match error.status() {
        Some(code) => format!("{code} {}", error_reason(error)),
        None => error_reason(error),
    };
    if error.is_permanent() {
        Delivered::Permanent(reply)
    } else {
        Delivered::Transient(reply)
    }
}

/// The options MAIL FROM needs for this message, as lettre's own `send` chooses them; a message
/// the server cannot take as it is fails for good before anything is handed over.
fn mail_parameters(
    connection: &AsyncSmtpConnection,
    envelope: &Envelope,
    raw: &[u8],
) -> Result<Vec<MailParameter>, Delivered> {
    let server = connection.server_info();
    let mut parameters = Vec::new();
    let non_ascii = envelope
        .to()
        .iter()
        .chain(envelope.from())
        .any(|address| !AsRef::<str>::as_ref(address).is_ascii());
    if non_ascii {
        if !server.supports_feature(Extension::SmtpUtfEight) {
            return Err(Delivered::Permanent(
                "An address has non-ASCII characters and the mail server does not support SMTPUTF8.".into(),
            ));
        }
        parameters.push(MailParameter::SmtpUtfEight);
    }
    if !raw.is_ascii() {
        if !server.supports_feature(Extension::EightBitMime) {
            return Err(Delivered::Permanent(
                "The message has 8-bit text and the mail server does not support 8BITMIME.".into(),
            ));
        }
        parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    Ok(parameters)
}

/// An error with its causes, in one line.
fn error_reason(error: &(dyn std::error::Error + 'static)) -> String {
    let mut reason = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !reason.contains(&text) {
            reason.push_str(": ");
            reason.push_str(&text);
        }
        source = cause.source();
    }
    reason
}

fn io_reason(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        _ => error_reason(error),
    }
}

/// A TLS failure: a certificate that does not verify is permanent (retrying cannot fix it and
/// must not loop silently); anything else is worth another try.
fn tls_failure(address: &str, error: &(dyn std::error::Error + 'static)) -> Delivered {
    match invalid_certificate(error) {
        Some(why) => Delivered::Permanent(format!(
            "The mail server {address} presented a TLS certificate that does not verify ({why}). \
             If a private certificate authority signed it, point ACCORD_SMTP_CA_FILE at that CA."
        )),
        None => Delivered::Transient(format!(
            "TLS with the mail server {address} failed: {}.",
            error_reason(error)
        )),
    }
}

/// Why the server's certificate was refused, if that is what `error` (or a cause) says.
fn invalid_certificate(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        // An io::Error hides the error it wraps from `source()`; look inside.
        let inner = cause
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        for candidate in [Some(cause), inner].into_iter().flatten() {
            if let Some(rustls::Error::InvalidCertificate(why)) = candidate.downcast_ref() {
                return Some(format!("{why:?}"));
            }
        }
        source = cause.source();
    }
    None
}

/// A TLS connector trusting the public roots and the PEM certificates of a private CA (the
/// IMAP watcher uses the same one as SMTP).
pub(crate) fn tls_connector(pem: Option<&[u8]>) -> anyhow::Result<tokio_rustls::TlsConnector> {
    implicit_tls(&extra_roots(pem)?)
}

/// The certificates of `ACCORD_SMTP_CA_FILE`, trusted besides the public roots.
fn extra_roots(pem: Option<&[u8]>) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let Some(pem) = pem else {
        return Ok(Vec::new());
    };
    let roots = CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>()?;
    anyhow::ensure!(!roots.is_empty(), "no PEM certificate in the CA file");
    Ok(roots)
}

fn implicit_tls(extra: &[CertificateDer<'static>]) -> anyhow::Result<tokio_rustls::TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for root in extra {
        roots.add(root.clone())?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// Whether the end of the current message's data has been written, for one connection.
#[derive(Debug, Default)]
struct Handover {
    armed: AtomicBool,
    complete: AtomicBool,
    notify: Notify,
}

impl Handover {
    /// The data phase of a new message begins.
    fn arm(&self) {
        self.complete.store(false, Ordering::SeqCst);
        self.armed.store(true, Ordering::SeqCst);
    }

    fn is_complete(&self) -> bool {
        self.complete.load(Ordering::SeqCst)
    }

    async fn complete(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_complete() {
                return;
            }
            notified.await;
        }
    }

    /// The connection reads while armed: lettre has written and flushed the whole message.
    fn on_read(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.complete.store(true, Ordering::SeqCst);
            self.notify.notify_waiters();
        }
    }
}

/// The stream under lettre's connection, telling [`Handover`] when the connection first reads.
#[derive(Debug)]
struct Probe<S> {
    inner: S,
    peer: SocketAddr,
    handover: Arc<Handover>,
}

impl<S> Probe<S> {
    fn new(inner: S, peer: SocketAddr, handover: Arc<Handover>) -> Probe<S> {
        Probe {
            inner,
            peer,
            handover,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Probe<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.handover.on_read();
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Probe<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S> AsyncTokioStream for Probe<S>
where
    S: AsyncRead + AsyncWrite + Send + Sync + Unpin + fmt::Debug,
{
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_is_complete_only_at_the_first_read_after_arming() {
        let handover = Handover::default();
        handover.on_read(); // the replies before DATA
        assert!(!handover.is_complete());
        handover.arm();
        assert!(!handover.is_complete());
        handover.on_read();
        assert!(handover.is_complete());
        handover.arm(); // the next message on the same connection
        assert!(!handover.is_complete());
    }

    #[test]
    fn a_certificate_refusal_is_found_inside_an_io_error() {
        let refused = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = io::Error::new(io::ErrorKind::InvalidData, refused);
        assert!(matches!(
            tls_failure("relay:465", &io),
            Delivered::Permanent(why) if why.contains("ACCORD_SMTP_CA_FILE")
        ));
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "reset");
        assert!(matches!(
            tls_failure("relay:465", &reset),
            Delivered::Transient(_)
        ));
    }
}
