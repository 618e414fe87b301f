//! A real SMTP listener in the test process: it speaks enough of RFC 5321 for lettre and keeps
//! every message it accepts.

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

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<Notify>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SmtpSink {
            port: listener.local_addr().unwrap().port(),
            messages: Arc::default(),
            arrived: Arc::default(),
        };
        let accepting = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(accepting.clone().converse(stream));
            }
        });
        sink
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
                self.messages.lock().unwrap().push(envelope.clone());
                self.arrived.notify_waiters();
                envelope.to.clear();
                b"250 OK queued\r\n"
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
