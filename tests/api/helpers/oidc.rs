//! A real OpenID Provider for a test: the npm package `oidc-provider` (`tests/oidc`), started
//! under Node on a free port with Accord as its client, and a browser-like walk through its
//! redirects and login form.

use std::path::Path;
use std::process::Stdio;

use reqwest::header::LOCATION;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use super::Client;

pub const CLIENT_ID: &str = "accord";
pub const CLIENT_SECRET: &str = "accord-test-client-secret";

pub struct OidcProvider {
    pub issuer: String,
    _node: Child,
}

impl OidcProvider {
    /// Starts the provider with `redirect_uri` registered for Accord (installing it with
    /// `npm ci` in `tests/oidc` the first time).
    pub async fn start(redirect_uri: &str) -> OidcProvider {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
        install(&dir).await;
        let mut node = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .arg(redirect_uri)
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs the test OpenID Provider");
        let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
            .await
            .expect("the provider starts within 20 s")
            .unwrap();
        let Some(ready) = first else {
            let mut stderr = String::new();
            let _ = node
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .await;
            panic!("the test OpenID Provider ended before it was ready: {stderr}");
        };
        let issuer = ready.strip_prefix("ready ").unwrap().to_owned();
        // Keep reading both: a closed pipe would end the provider at its next line of output,
        // and a full one would stall it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let mut stderr = BufReader::new(node.stderr.take().unwrap()).lines();
        tokio::spawn(async move { while let Ok(Some(_)) = stderr.next_line().await {} });
        OidcProvider {
            issuer,
            _node: node,
        }
    }
}

/// Installs the provider's npm packages once per test run (from the lock file).
async fn install(dir: &Path) {
    static INSTALLED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    INSTALLED
        .get_or_init(|| async {
            if dir.join("node_modules/oidc-provider").exists() {
                return;
            }
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(dir)
                .status()
                .await
                .expect("npm installs the test OpenID Provider (Node and npm are needed)");
            assert!(status.success(), "npm ci in tests/oidc failed");
        })
        .await;
}

/// Where a response redirects to, as an absolute URL.
fn next(response: &reqwest::Response) -> String {
    let location = response.headers()[LOCATION].to_str().unwrap();
    response.url().join(location).unwrap().to_string()
}

/// Walks from Accord's "Sign in with …" through the provider's login form (typing `login`) to
/// the redirect back to Accord's callback; returns that callback URL without following it.
pub async fn callback_url(client: &Client, login: &str) -> String {
    let mut response = client.get("/sign-in/oidc").await;
    for _ in 0..10 {
        if response.status().is_redirection() {
            let url = next(&response);
            if url.contains("/sign-in/oidc/callback") {
                return url;
            }
            response = client.http.get(&url).send().await.unwrap();
            continue;
        }
        let page = response.url().clone();
        let html = response.text().await.unwrap();
        let action = html
            .split("action=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("a login form at {page}: {html}"));
        let action = page.join(action).unwrap();
        response = client
            .http
            .post(action)
            .form(&[
                ("prompt", "login"),
                ("login", login),
                ("password", "anything"),
            ])
            .send()
            .await
            .unwrap();
    }
    panic!("the provider never sent the browser back to Accord");
}

/// Signs in through the provider as `login`; returns Accord's answer to the callback.
pub async fn sign_in(client: &Client, login: &str) -> reqwest::Response {
    let url = callback_url(client, login).await;
    client.http.get(url).send().await.unwrap()
}
