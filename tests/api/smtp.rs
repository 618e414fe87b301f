//! A real SMTP listener in the test process: it speaks enough of RFC 5321 (with STARTTLS or
//! implicit TLS under a throwaway certificate authority, and AUTH PLAIN/LOGIN) for Accord, keeps
//! every message it takes, and fails in the ways real mail servers and networks fail.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::rustls;

#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    /// The value of a header of the message (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut lines = head.split("\r\n").peekable();
        while let Some(line) = lines.next() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if key.eq_ignore_ascii_case(name) {
                let mut value = value.trim().to_owned();
                while let Some(next) = lines.next_if(|l| l.starts_with([' ', '\t'])) {
                    value.push(' ');
                    value.push_str(next.trim());
                }
                return Some(value);
            }
        }
        None
    }

    /// The message text with quoted-printable soft breaks and `=3D` undone (enough for links).
    pub fn text(&self) -> String {
        self.data.replace("=\r\n", "").replace("=3D", "=")
    }

    /// The first link in the message that starts with `prefix`.
    pub fn link_starting(&self, prefix: &str) -> Option<String> {
        let text = self.text();
        let start = text.find(prefix)?;
        let link: String = text[start..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        Some(link)
    }
}

/// How the listener behaves, switchable while a test runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// A well-behaved server: 250 for every message.
    Accept = 0,
    /// Closes every connection before greeting (the server is down).
    Down = 1,
    /// Takes the message data, then refuses it for good.
    Reject = 2,
    /// Takes the message data and never answers.
    Silent = 3,
    /// Takes the message data, then resets the connection (TCP RST) instead of replying.
    ResetAfterData = 4,
    /// Answers every command before DATA only after [`SmtpSink::set_delay`].
    SlowCommands = 5,
    /// Takes the message data and answers 250 only after [`SmtpSink::set_delay`].
    SlowFinalReply = 6,
}

/// Encryption the listener speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encryption {
    None,
    /// Plain text until STARTTLS.
    StartTls,
    /// TLS from the first byte (SMTPS).
    Implicit,
}

/// How a listener is set up: encryption with which certificate, and which logins it accepts.
#[derive(Clone)]
pub struct Setup {
    pub tls: Encryption,
    pub certificate: Option<TestCertificate>,
    /// User, password, and the mechanisms advertised (e.g. "PLAIN LOGIN").
    pub auth: Option<(String, String, &'static str)>,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            tls: Encryption::None,
            certificate: None,
            auth: None,
        }
    }
}

/// A throwaway certificate authority and a `localhost` certificate it signed.
#[derive(Clone)]
pub struct TestCertificate {
    pub ca_pem: String,
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key_der: Vec<u8>,
}

impl TestCertificate {
    pub fn new() -> TestCertificate {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Accord test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let leaf = params.signed_by(&key, &ca, &ca_key).unwrap();
        TestCertificate {
            ca_pem: ca.pem(),
            chain: vec![leaf.der().clone(), ca.der().clone()],
            key_der: key.serialize_der(),
        }
    }

    fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(self.key_der.clone().into());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), key)
            .unwrap();
        tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config))
    }

    /// Writes the CA certificate to a file (for `ACCORD_SMTP_CA_FILE`).
    pub fn write_ca(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("test-ca.pem");
        std::fs::write(&path, &self.ca_pem).unwrap();
        path
    }
}

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    setup: Setup,
    messages: Arc<Mutex<Vec<Received>>>,
    /// The AUTH mechanisms clients used successfully, in order.
    logins: Arc<Mutex<Vec<String>>>,
    arrived: Arc<Notify>,
    mode: Arc<AtomicU8>,
    delay_ms: Arc<AtomicU64>,
}

/// A connection to the listener, plain or encrypted, that can be reset.
trait Connection: AsyncRead + AsyncWrite + Unpin + Send {
    /// Makes the next close a TCP reset instead of an orderly shutdown.
    fn reset_on_close(&self);
}

// A zero linger never blocks: the close sends a reset at once (tokio deprecates only the
// blocking, non-zero kind's use).
#[allow(deprecated)]
impl Connection for TcpStream {
    fn reset_on_close(&self) {
        let _ = self.set_linger(Some(Duration::ZERO));
    }
}

#[allow(deprecated)]
impl Connection for tokio_rustls::server::TlsStream<TcpStream> {
    fn reset_on_close(&self) {
        let _ = self.get_ref().0.set_linger(Some(Duration::ZERO));
    }
}

/// How one stretch of a conversation ended.
enum Ended<S> {
    Closed,
    /// The client asked for STARTTLS and was told to go ahead.
    StartTls(S),
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        SmtpSink::start_with(Setup::default()).await
    }

    pub async fn start_with(setup: Setup) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SmtpSink {
            port: listener.local_addr().unwrap().port(),
            setup,
            messages: Arc::default(),
            logins: Arc::default(),
            arrived: Arc::default(),
            mode: Arc::default(),
            delay_ms: Arc::default(),
        };
        let accepting = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(accepting.clone().serve(stream));
            }
        });
        sink
    }

    pub fn set_mode(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// How long the slow modes wait before answering.
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms.load(Ordering::SeqCst))
    }

    fn mode(&self) -> Mode {
        match self.mode.load(Ordering::SeqCst) {
            1 => Mode::Down,
            2 => Mode::Reject,
            3 => Mode::Silent,
            4 => Mode::ResetAfterData,
            5 => Mode::SlowCommands,
            6 => Mode::SlowFinalReply,
            _ => Mode::Accept,
        }
    }

    /// The AUTH mechanisms clients signed in with.
    pub fn logins(&self) -> Vec<String> {
        self.logins.lock().unwrap().clone()
    }

    /// Messages whose envelope includes `address`.
    pub fn messages_to(&self, address: &str) -> Vec<Received> {
        let wanted = format!("<{address}>");
        self.messages()
            .into_iter()
            .filter(|m| m.to.contains(&wanted))
            .collect()
    }

    /// Waits (at most 10 s) until `count` messages to `address` have arrived.
    pub async fn wait_for_to(&self, address: &str, count: usize) -> Vec<Received> {
        let waiting = async {
            loop {
                let notified = self.arrived.notified();
                if self.messages_to(address).len() >= count {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .unwrap_or_else(|_| panic!("expected {count} messages to {address}"));
        self.messages_to(address)
    }

    /// The URL Accord needs for this listener (with its login, if it has one).
    pub fn url(&self) -> String {
        let login = match &self.setup.auth {
            Some((user, password, _)) => format!("{user}:{password}@"),
            None => String::new(),
        };
        match self.setup.tls {
            Encryption::None => format!("smtp://{login}127.0.0.1:{}", self.port),
            Encryption::StartTls => format!("smtp://{login}localhost:{}?tls=required", self.port),
            Encryption::Implicit => format!("smtps://{login}localhost:{}", self.port),
        }
    }

    pub fn messages(&self) -> Vec<Received> {
        self.messages.lock().unwrap().clone()
    }

    /// Waits (at most 10 s) until `count` messages have arrived, and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let waiting = async {
            loop {
                let notified = self.arrived.notified();
                if self.messages.lock().unwrap().len() >= count {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .unwrap_or_else(|_| panic!("expected {count} messages, got {:?}", self.messages()));
        self.messages()
    }

    async fn serve(self, tcp: TcpStream) {
        if self.mode() == Mode::Down {
            return;
        }
        let certificate = self.setup.certificate.clone();
        match (self.setup.tls, certificate) {
            (Encryption::Implicit, Some(certificate)) => {
                if let Ok(tls) = certificate.acceptor().accept(tcp).await {
                    self.converse(tls, true, true).await;
                }
            }
            (Encryption::StartTls, Some(certificate)) => {
                if let Ended::StartTls(tcp) = self.clone().converse(tcp, true, false).await
                    && let Ok(tls) = certificate.acceptor().accept(tcp).await
                {
                    self.converse(tls, false, true).await;
                }
            }
            _ => {
                self.converse(tcp, true, false).await;
            }
        }
    }

    async fn converse<S: Connection>(self, stream: S, greet: bool, encrypted: bool) -> Ended<S> {
        let mut stream = BufReader::new(stream);
        let mut envelope = Received {
            from: String::new(),
            to: Vec::new(),
            data: String::new(),
        };
        let mut signed_in = self.setup.auth.is_none();
        if greet {
            let _ = stream.write_all(b"220 localhost test SMTP\r\n").await;
        }
        let mut line = String::new();
        loop {
            line.clear();
            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                return Ended::Closed;
            }
            let mode = self.mode();
            if mode == Mode::Down {
                return Ended::Closed; // the server went away: drop even pooled connections
            }
            if mode == Mode::SlowCommands {
                tokio::time::sleep(self.delay()).await;
            }
            let command = line.trim_end().to_ascii_uppercase();
            let reply: Vec<u8> = if command.starts_with("EHLO") {
                let mut reply = "250-localhost\r\n".to_owned();
                if self.setup.tls == Encryption::StartTls && !encrypted {
                    reply.push_str("250-STARTTLS\r\n");
                }
                if let (Some((_, _, mechanisms)), true) = (&self.setup.auth, encrypted) {
                    reply.push_str(&format!("250-AUTH {mechanisms}\r\n"));
                }
                reply.push_str("250 8BITMIME\r\n");
                reply.into_bytes()
            } else if command == "STARTTLS" && self.setup.tls == Encryption::StartTls && !encrypted
            {
                let _ = stream.write_all(b"220 go ahead\r\n").await;
                return Ended::StartTls(stream.into_inner());
            } else if command.starts_with("AUTH ") {
                signed_in = self.authenticate(&mut stream, line.trim_end()).await;
                if signed_in {
                    b"235 2.7.0 Authentication successful\r\n".to_vec()
                } else {
                    b"535 5.7.8 Authentication credentials invalid\r\n".to_vec()
                }
            } else if command.starts_with("MAIL FROM:") && !signed_in {
                b"530 5.7.0 Authentication required\r\n".to_vec()
            } else if command.starts_with("MAIL FROM:") {
                envelope.from = line.trim_end()[10..].trim().to_owned();
                b"250 OK\r\n".to_vec()
            } else if command.starts_with("RCPT TO:") {
                envelope.to.push(line.trim_end()[8..].trim().to_owned());
                b"250 OK\r\n".to_vec()
            } else if command == "DATA" {
                let _ = stream.write_all(b"354 go ahead\r\n").await;
                envelope.data = read_data(&mut stream).await;
                match self.mode() {
                    Mode::Reject => b"550 5.1.1 mailbox unavailable\r\n".to_vec(),
                    Mode::Silent => {
                        self.keep(&mut envelope);
                        std::future::pending::<()>().await;
                        return Ended::Closed;
                    }
                    Mode::ResetAfterData => {
                        self.keep(&mut envelope);
                        stream.get_ref().reset_on_close();
                        return Ended::Closed;
                    }
                    Mode::SlowFinalReply => {
                        self.keep(&mut envelope);
                        tokio::time::sleep(self.delay()).await;
                        b"250 OK queued\r\n".to_vec()
                    }
                    _ => {
                        self.keep(&mut envelope);
                        b"250 OK queued\r\n".to_vec()
                    }
                }
            } else if command == "QUIT" {
                let _ = stream.write_all(b"221 bye\r\n").await;
                return Ended::Closed;
            } else if command.starts_with("HELO") || command == "RSET" || command == "NOOP" {
                b"250 OK\r\n".to_vec()
            } else {
                b"502 not implemented\r\n".to_vec()
            };
            if stream.write_all(&reply).await.is_err() {
                return Ended::Closed;
            }
        }
    }

    fn keep(&self, envelope: &mut Received) {
        self.messages.lock().unwrap().push(envelope.clone());
        self.arrived.notify_waiters();
        envelope.to.clear();
    }

    /// AUTH PLAIN (initial response) or AUTH LOGIN (two challenges); whether the login is right.
    async fn authenticate<S: Connection>(&self, stream: &mut BufReader<S>, command: &str) -> bool {
        let Some((user, password, mechanisms)) = &self.setup.auth else {
            return false;
        };
        let decode = |s: &str| {
            String::from_utf8(STANDARD.decode(s.trim()).unwrap_or_default()).unwrap_or_default()
        };
        let mut words = command.split_whitespace().skip(1);
        let mechanism = words.next().unwrap_or_default().to_ascii_uppercase();
        if !mechanisms.split(' ').any(|m| m == mechanism) {
            return false;
        }
        let given = match mechanism.as_str() {
            "PLAIN" => {
                let plain = decode(words.next().unwrap_or_default());
                let mut parts = plain.split('\0').skip(1);
                (
                    parts.next().unwrap_or_default().to_owned(),
                    parts.next().unwrap_or_default().to_owned(),
                )
            }
            "LOGIN" => {
                let mut answer = String::new();
                let _ = stream.write_all(b"334 VXNlcm5hbWU6\r\n").await;
                let _ = stream.read_line(&mut answer).await;
                let user = decode(&answer);
                answer.clear();
                let _ = stream.write_all(b"334 UGFzc3dvcmQ6\r\n").await;
                let _ = stream.read_line(&mut answer).await;
                (user, decode(&answer))
            }
            _ => return false,
        };
        let right = given == (user.clone(), password.clone());
        if right {
            self.logins.lock().unwrap().push(mechanism);
        }
        right
    }
}

async fn read_data<S: Connection>(stream: &mut BufReader<S>) -> String {
    let mut data = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if stream.read_line(&mut line).await.unwrap_or(0) == 0 || line == ".\r\n" {
            return data;
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
    }
}
