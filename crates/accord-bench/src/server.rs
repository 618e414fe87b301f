//! The server under test: the release `accord` started as a separate process on the dataset,
//! and a member signed in to it like a browser.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use accord::db::Db;

use crate::load::{self, Request};

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    /// Whether the database is a server of its own (PostgreSQL), whose CPU time is read too.
    database_server: bool,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The CPU time the server, the database server and the load generator have used so far.
    pub fn cpu(&self) -> crate::cpu::Reading {
        crate::cpu::Reading::now(self.child.id(), self.database_server)
    }

    /// Peak resident memory of the server so far (VmHWM), in MB.
    pub fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

fn accord_binary() -> anyhow::Result<PathBuf> {
    let path = std::env::current_exe()?.with_file_name("accord");
    anyhow::ensure!(
        path.exists(),
        "{} is missing: run `cargo build --release` first",
        path.display()
    );
    Ok(path)
}

/// Starts `accord serve`; returns it once `/readyz` answers, with the time that took.
pub async fn start(
    database_url: &str,
    data_dir: &std::path::Path,
    smtp_port: u16,
    ceiling: usize,
) -> anyhow::Result<(Server, Duration)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let started = Instant::now();
    let child = Command::new(accord_binary()?)
        .arg("serve")
        .args(["--bench-ceiling-bytes", &ceiling.to_string()])
        .env("ACCORD_DATABASE_URL", database_url)
        .env("ACCORD_DATA_DIR", data_dir)
        .env("ACCORD_BIND", addr.to_string())
        .env("ACCORD_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}"))
        .env("ACCORD_LOG", "error")
        .env("ACCORD_INBOUND_ADDRESS", crate::INBOUND_ADDRESS)
        .env("ACCORD_INBOUND_SECRET", crate::INBOUND_SECRET)
        .stdout(Stdio::null())
        .spawn()?;
    let server = Server {
        child,
        addr,
        database_server: !database_url.starts_with("sqlite:"),
    };
    loop {
        if let Ok((200, _, _)) = load::once(addr, &Request::get("/readyz"), "").await {
            return Ok((server, started.elapsed()));
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "accord did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Signs in; returns the session cookie and the CSRF token.
pub async fn sign_in(
    addr: SocketAddr,
    email: &str,
    password: &str,
) -> anyhow::Result<(String, String)> {
    let (_, head, body) = load::once(addr, &Request::get("/sign-in"), "")
        .await
        .map_err(anyhow::Error::msg)?;
    let cookie = session_cookie(&head).ok_or_else(|| anyhow::anyhow!("no session cookie"))?;
    let token = csrf(&body).ok_or_else(|| anyhow::anyhow!("no CSRF token"))?;
    let form = format!(
        "email={}&password={password}&csrf_token={token}",
        email.replace('@', "%40")
    );
    let (status, head, _) = load::once(addr, &Request::post("/sign-in", form), &cookie)
        .await
        .map_err(anyhow::Error::msg)?;
    anyhow::ensure!(status == 303, "sign-in answered {status}");
    let cookie = session_cookie(&head).unwrap_or(cookie);
    let (_, _, home) = load::once(addr, &Request::get("/"), &cookie)
        .await
        .map_err(anyhow::Error::msg)?;
    let token = csrf(&home).ok_or_else(|| anyhow::anyhow!("no CSRF token after sign-in"))?;
    Ok((cookie, token))
}

fn session_cookie(head: &str) -> Option<String> {
    head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .starts_with("set-cookie: accord_session=")
            .then(|| l[12..].split(';').next().unwrap_or("").trim().to_owned())
    })
}

fn csrf(html: &str) -> Option<String> {
    let marker = "\"X-CSRF-Token\": \"";
    let start = html.find(marker)? + marker.len();
    html.get(start..start + 64).map(str::to_owned)
}

/// `count` more sessions of the person signed in with `cookie`, as if they had signed in on as
/// many devices (one password hash each would take minutes): copies of the session's row under
/// new ids, each seen just now — as a team's sessions are, each refreshing its idle timeout once
/// a minute, not all in the same second. Returns their cookies.
pub async fn more_sessions(db: &Db, cookie: &str, count: usize) -> anyhow::Result<Vec<String>> {
    let id = cookie
        .strip_prefix("accord_session=")
        .ok_or_else(|| anyhow::anyhow!("not a session cookie"))?;
    let (data, user_id, expires_at): (String, i64, i64) =
        sqlx::query_as("SELECT data, user_id, expires_at FROM sessions WHERE id = $1")
            .bind(id)
            .fetch_one(db.reader())
            .await?;
    let mut data: serde_json::Value = serde_json::from_str(&data)?;
    data["seen_at"] = chrono::Utc::now().timestamp_millis().into();
    let data = data.to_string();
    let mut tx = db.begin_write().await?;
    let mut cookies = Vec::with_capacity(count);
    for _ in 0..count {
        let copy = tower_sessions::session::Id::default().to_string();
        sqlx::query("INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&copy)
            .bind(user_id)
            .bind(&data)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        cookies.push(format!("accord_session={copy}"));
    }
    tx.commit().await?;
    Ok(cookies)
}
