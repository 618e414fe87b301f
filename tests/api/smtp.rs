//! A real SMTP listener in the test process: it speaks enough of RFC 5321 for lettre and keeps
//! every message it accepts.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

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
}

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<Notify>,
    mode: Arc<AtomicU8>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SmtpSink {
            port: listener.local_addr().unwrap().port(),
            messages: Arc::default(),
            arrived: Arc::default(),
            mode: Arc::default(),
        };
        let accepting = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(accepting.clone().converse(stream));
            }
        });
        sink
    }

    pub fn set_mode(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    fn mode(&self) -> Mode {
        match self.mode.load(Ordering::SeqCst) {
            1 => Mode::Down,
            2 => Mode::Reject,
            3 => Mode::Silent,
            _ => Mode::Accept,
        }
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

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
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

    async fn converse(self, stream: TcpStream) {
        if self.mode() == Mode::Down {
            return;
        }
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        let mut envelope = Received {
            from: String::new(),
            to: Vec::new(),
            data: String::new(),
        };
        let _ = write.write_all(b"220 localhost test SMTP\r\n").await;
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            if self.mode() == Mode::Down {
                return; // the server went away: drop even pooled connections
            }
            let command = line.trim_end().to_ascii_uppercase();
            let reply: &[u8] = if command.starts_with("EHLO") {
                b"250-localhost\r\n250 8BITMIME\r\n"
            } else if command.starts_with("MAIL FROM:") {
                envelope.from = line.trim_end()[10..].trim().to_owned();
                b"250 OK\r\n"
            } else if command.starts_with("RCPT TO:") {
                envelope.to.push(line.trim_end()[8..].trim().to_owned());
                b"250 OK\r\n"
            } else if command == "DATA" {
                let _ = write.write_all(b"354 go ahead\r\n").await;
                envelope.data = read_data(&mut lines).await;
                match self.mode() {
                    Mode::Reject => b"550 5.1.1 mailbox unavailable\r\n",
                    Mode::Silent => {
                        self.messages.lock().unwrap().push(envelope.clone());
                        self.arrived.notify_waiters();
                        std::future::pending::<()>().await;
                        return;
                    }
                    _ => {
                        self.messages.lock().unwrap().push(envelope.clone());
                        self.arrived.notify_waiters();
                        envelope.to.clear();
                        b"250 OK queued\r\n"
                    }
                }
            } else if command == "QUIT" {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            } else if command.starts_with("HELO") || command == "RSET" || command == "NOOP" {
                b"250 OK\r\n"
            } else {
                b"502 not implemented\r\n"
            };
            if write.write_all(reply).await.is_err() {
                return;
            }
        }
    }
}

async fn read_data(lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
    let mut data = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 || line == ".\r\n" {
            return data;
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
    }
}
