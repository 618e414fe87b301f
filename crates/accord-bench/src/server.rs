//! The server under test: the release `accord` started as a separate process on the dataset,
//! and a member signed in to it like a browser.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::load::{self, Request};

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
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
    let server = Server { child, addr };
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
