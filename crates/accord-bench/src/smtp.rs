//! An SMTP listener for the outbox scenario: accepts everything and notes when each message
//! arrived.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Default)]
pub struct Sink {
    pub arrivals: Arc<Mutex<Vec<Instant>>>,
}

impl Sink {
    pub async fn start() -> (Sink, u16) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let port = listener.local_addr().expect("an address").port();
        let sink = Sink::default();
        let accepting = sink.clone();
        tokio::spawn(async move {
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        // Keep listening (out of descriptors, say): a sink that stops accepting
                        // turns every later delivery into a timeout on Accord's side.
                        eprintln!("smtp sink: accept failed: {error}");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let sink = accepting.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 bench\r\n").await;
                    let mut in_data = false;
                    while let Ok(Some(line)) = lines.next_line().await {
                        let reply: &[u8] = if in_data {
                            if line != "." {
                                continue;
                            }
                            in_data = false;
                            sink.arrivals
                                .lock()
                                .expect("not poisoned")
                                .push(Instant::now());
                            b"250 OK\r\n"
                        } else if line.to_ascii_uppercase().starts_with("EHLO") {
                            b"250-bench\r\n250 8BITMIME\r\n"
                        } else if line.eq_ignore_ascii_case("DATA") {
                            in_data = true;
                            b"354 go ahead\r\n"
                        } else if line.eq_ignore_ascii_case("QUIT") {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            b"250 OK\r\n"
                        };
                        if write.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (sink, port)
    }

    pub fn count(&self) -> usize {
        self.arrivals.lock().expect("not poisoned").len()
    }
}
