//! A small HTTP/1.1 load generator: a fixed number of keep-alive connections, each sending the
//! next request of a shared list as soon as the previous answer is read, for a fixed time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request to send (with the session cookie; POST bodies are forms).
#[derive(Clone, Debug)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub body: Option<String>,
    /// Sent by htmx (`HX-Request: true`), as a page's polling is.
    pub htmx: bool,
    /// A raw email for the inbound door, with its bearer secret (instead of a form body).
    pub mail_with_secret: Option<String>,
}

impl Request {
    pub fn get(path: impl Into<String>) -> Request {
        Request {
            method: "GET",
            path: path.into(),
            body: None,
            htmx: false,
            mail_with_secret: None,
        }
    }

    /// One raw email posted to `POST /inbound/messages`, as a mail provider's webhook does.
    pub fn inbound(raw: String, secret: &str) -> Request {
        Request {
            method: "POST",
            path: "/inbound/messages".into(),
            body: Some(raw),
            htmx: false,
            mail_with_secret: Some(secret.to_owned()),
        }
    }

    /// A page's live check, as htmx sends it.
    pub fn poll(path: impl Into<String>) -> Request {
        Request {
            htmx: true,
            ..Request::get(path)
        }
    }

    pub fn post(path: impl Into<String>, body: impl Into<String>) -> Request {
        Request {
            method: "POST",
            path: path.into(),
            body: Some(body.into()),
            htmx: false,
            mail_with_secret: None,
        }
    }

    fn bytes(&self, host: &str, cookie: &str) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n",
            self.method, self.path
        );
        if self.htmx {
            head.push_str("HX-Request: true\r\n");
        }
        match (&self.body, &self.mail_with_secret) {
            (Some(body), Some(secret)) => {
                head.push_str(&format!(
                    "Authorization: Bearer {secret}\r\nContent-Type: message/rfc822\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                ));
            }
            (Some(body), None) => {
                head.push_str(&format!(
                    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                ));
            }
            (None, _) => head.push_str("\r\n"),
        }
        head.into_bytes()
    }
}

/// What one scenario measured.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: usize,
    pub errors: usize,
    pub latencies_us: Vec<u32>,
    pub seconds: f64,
    pub first_error: Option<String>,
    /// Live checks answered with something to show (not `204`), and the bytes those answers took.
    pub changed: usize,
    pub changed_bytes: usize,
}

impl Stats {
    /// Counts a failed request, keeping the first failure's words.
    fn failed(&mut self, why: impl FnOnce() -> String) {
        self.errors += 1;
        self.first_error.get_or_insert_with(why);
    }

    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    /// The latency at quantile `q` (0.0–1.0), in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        f64::from(sorted[index]) / 1000.0
    }
}

pub async fn run(
    addr: SocketAddr,
    cookie: &str,
    requests: Vec<Request>,
    connections: usize,
    duration: Duration,
) -> Stats {
    let host = addr.to_string();
    let wire: Arc<Vec<Vec<u8>>> =
        Arc::new(requests.iter().map(|r| r.bytes(&host, cookie)).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (wire, next) = (wire.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            connection(addr, wire, next, deadline).await
        }));
    }
    gather(tasks, started).await
}

/// The connections' stats as one, over the time since `started`.
async fn gather(tasks: Vec<tokio::task::JoinHandle<Stats>>, started: Instant) -> Stats {
    let mut total = Stats::default();
    for task in tasks {
        if let Ok(stats) = task.await {
            total.requests += stats.requests;
            total.errors += stats.errors;
            total.latencies_us.extend(stats.latencies_us);
            total.first_error = total.first_error.or(stats.first_error);
            total.changed += stats.changed;
            total.changed_bytes += stats.changed_bytes;
        }
    }
    total.seconds = started.elapsed().as_secs_f64();
    total
}

async fn connection(
    addr: SocketAddr,
    wire: Arc<Vec<Vec<u8>>>,
    next: Arc<AtomicUsize>,
    deadline: Instant,
) -> Stats {
    let mut stats = Stats::default();
    let mut stream: Option<TcpStream> = None;
    let mut buffer = Vec::with_capacity(256 * 1024);
    while Instant::now() < deadline {
        if stream.is_none() {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    stream = Some(s);
                }
                Err(e) => {
                    stats.failed(|| format!("connect: {e}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let request = &wire[next.fetch_add(1, Ordering::Relaxed) % wire.len()];
        let sent = Instant::now();
        let Some(s) = stream.as_mut() else { continue };
        let outcome = exchange(s, request, &mut buffer).await;
        stats.requests += 1;
        stats
            .latencies_us
            .push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        match outcome {
            Ok(status) if status < 400 => {}
            Ok(status) => stats.failed(|| {
                let path = String::from_utf8_lossy(&request[..request.len().min(80)]);
                format!("{status} for {}", path.lines().next().unwrap_or(""))
            }),
            Err(e) => {
                stats.failed(|| e);
                stream = None;
            }
        }
    }
    stats
}

/// Sends one request and reads the whole answer; returns its status code.
async fn exchange(
    stream: &mut TcpStream,
    request: &[u8],
    buffer: &mut Vec<u8>,
) -> Result<u16, String> {
    stream
        .write_all(request)
        .await
        .map_err(|e| format!("write: {e}"))?;
    buffer.clear();
    let head_end = loop {
        if let Some(i) = find(buffer, b"\r\n\r\n") {
            break i + 4;
        }
        read_more(stream, buffer).await?;
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
    let status: u16 = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    if let Some(length) = header(&head, "content-length") {
        let length: usize = length.parse().map_err(|_| "bad content-length")?;
        while buffer.len() < head_end + length {
            read_more(stream, buffer).await?;
        }
    } else if header(&head, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        while find(&buffer[head_end..], b"0\r\n\r\n").is_none() {
            read_more(stream, buffer).await?;
        }
    }
    Ok(status)
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Result<(), String> {
    let mut chunk = [0u8; 64 * 1024];
    let n = stream
        .read(&mut chunk)
        .await
        .map_err(|e| format!("read: {e}"))?;
    if n == 0 {
        return Err("connection closed".into());
    }
    buffer.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A header's value in a response head (names as the server writes them, lower case).
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|line| {
            line.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(':'))
        })
        .map(str::trim)
}

/// One request on a fresh connection; returns (status, head, body) as text.
pub async fn once(
    addr: SocketAddr,
    request: &Request,
    cookie: &str,
) -> Result<(u16, String, String), String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let mut buffer = Vec::new();
    let status = exchange(
        &mut stream,
        &request.bytes(&addr.to_string(), cookie),
        &mut buffer,
    )
    .await?;
    let split = find(&buffer, b"\r\n\r\n").map_or(buffer.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&buffer[..split]).into_owned();
    let body = String::from_utf8_lossy(&buffer[split..]).into_owned();
    Ok((status, head, body))
}

/// How often an open room page asks whether anything changed (its `hx-trigger="every 2s"`).
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// Open room pages, one per session in `cookies`, spread over `rooms`, each on its own keep-alive
/// connection and polling its room's live check every two seconds as the page does: it starts
/// from version 0 and no parts (the first answer brings the whole page up to date) and follows
/// the URL each answer names, with the version and the parts it now shows, as a browser does.
pub async fn watch(
    addr: SocketAddr,
    cookies: &[String],
    rooms: &[i64],
    duration: Duration,
) -> Stats {
    let host = addr.to_string();
    let started = Instant::now();
    let deadline = started + duration;
    let watchers = cookies.len();
    let mut tasks = Vec::new();
    for (i, cookie) in cookies.iter().enumerate() {
        let (host, cookie) = (host.clone(), cookie.clone());
        let room = rooms[i % rooms.len()];
        // Pages were opened at different moments: their polls are spread over the interval.
        let offset = POLL_EVERY.mul_f64(i as f64 / watchers as f64);
        tasks.push(tokio::spawn(async move {
            watcher(addr, &host, &cookie, room, started + offset, deadline).await
        }));
    }
    gather(tasks, started).await
}

async fn watcher(
    addr: SocketAddr,
    host: &str,
    cookie: &str,
    room: i64,
    first: Instant,
    deadline: Instant,
) -> Stats {
    let mut stats = Stats::default();
    let mut poll_url = format!("/rooms/{room}/live?version=0");
    let mut buffer = Vec::with_capacity(64 * 1024);
    tokio::time::sleep_until(first.into()).await;
    let mut stream = match TcpStream::connect(addr).await {
        Ok(stream) => stream,
        Err(e) => {
            stats.failed(|| format!("connect: {e}"));
            return stats;
        }
    };
    let _ = stream.set_nodelay(true);
    let mut tick = tokio::time::interval_at(first.into(), POLL_EVERY);
    let mut opened = false;
    loop {
        tick.tick().await;
        if Instant::now() >= deadline {
            break;
        }
        let poll = Request::poll(poll_url.clone());
        let sent = Instant::now();
        let outcome = exchange(&mut stream, &poll.bytes(host, cookie), &mut buffer).await;
        // The first answer renders the page's live part (opening it); the polls after it are
        // what is measured.
        if opened {
            stats.requests += 1;
            stats
                .latencies_us
                .push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        }
        let measured = opened;
        opened = true;
        match outcome {
            Ok(204) => {}
            Ok(200) => {
                if measured {
                    stats.changed += 1;
                    stats.changed_bytes += buffer.len();
                }
                if let Some(next) = poll_url_in(&String::from_utf8_lossy(&buffer), "/rooms/") {
                    poll_url = next;
                }
            }
            Ok(status) => stats.failed(|| format!("{status} for a live check")),
            Err(e) => {
                stats.failed(|| e);
                break;
            }
        }
    }
    stats
}

/// The live check a page (or a live check's answer) names as the URL to poll next, as htmx reads
/// it from the element's `hx-get`.
pub fn poll_url_in(body: &str, prefix: &str) -> Option<String> {
    body.split("hx-get=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|url| url.starts_with(prefix) && url.contains("/live"))
        .map(|url| url.replace("&#38;", "&").replace("&amp;", "&"))
}
