//! The `accord` binary itself: configuration errors, `user add`, `demo`, graceful shutdown.

use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;

use crate::helpers::{Client, TestApp, TestData};

/// Runs `accord ARGS` on the test's data and waits for it without blocking the test's runtime:
/// a `TestApp` on the same runtime keeps serving and finishing its own writes meanwhile (blocked,
/// it could hold the database's write lock the command waits for).
async fn accord(data: &TestData, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env("ACCORD_DATA_DIR", data.dir.path())
        .env("ACCORD_DATABASE_URL", &data.database_url)
        .env_remove("ACCORD_SMTP_URL")
        .env_remove("ACCORD_BIND")
        .env_remove("ACCORD_BASE_URL")
        .output()
        .await
        .unwrap()
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn a_bad_database_url_exits_2_with_one_line_naming_the_variable() {
    for url in [
        "mysql://localhost/accord",
        "sqlite:///no/such/folder/accord.db",
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_accord"))
            .env("ACCORD_DATABASE_URL", url)
            .env("ACCORD_DATA_DIR", tempfile::tempdir().unwrap().path())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{url}");
        let stderr = stderr_of(&output);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("accord: ACCORD_DATABASE_URL: "),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"));
    }
}

#[tokio::test]
async fn bad_values_for_other_settings_exit_2_naming_them() {
    let cases = [
        ("ACCORD_BIND", "not-an-address"),
        ("ACCORD_BASE_URL", "ftp://accord.example.com"),
        ("ACCORD_SMTP_URL", "http://mail.example.com"),
        ("ACCORD_MAIL_FROM", "nobody"),
    ];
    for (variable, value) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_accord"))
            .env(variable, value)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{variable}");
        let stderr = stderr_of(&output);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(variable), "{stderr}");
    }
}

#[tokio::test]
async fn a_provider_that_cannot_be_discovered_exits_2_naming_the_issuer_variable() {
    let data = TestData::new().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let issuer = format!("http://{closed}");
    let output = Command::new(env!("CARGO_BIN_EXE_accord"))
        .env("ACCORD_DATA_DIR", data.dir.path())
        .env("ACCORD_DATABASE_URL", &data.database_url)
        .env("ACCORD_OIDC_ISSUER", &issuer)
        .env("ACCORD_OIDC_CLIENT_ID", "accord")
        .env("ACCORD_OIDC_CLIENT_SECRET", "secret")
        .env("ACCORD_BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr_of(&output);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("accord: ACCORD_OIDC_ISSUER: discovery at "),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "{stderr}");
}

#[tokio::test]
async fn help_documents_every_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_accord"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for variable in [
        "ACCORD_DATABASE_URL",
        "ACCORD_BIND",
        "ACCORD_BASE_URL",
        "ACCORD_DATA_DIR",
        "ACCORD_SMTP_URL",
        "ACCORD_MAIL_FROM",
        "ACCORD_SESSION_IDLE_MINUTES",
        "ACCORD_SESSION_MAX_HOURS",
        "ACCORD_CONTACT_TOUCH_LIMIT",
        "ACCORD_LOG",
        "ACCORD_DEFAULT_TIME_ZONE",
        "ACCORD_OIDC_ISSUER",
        "ACCORD_OIDC_CLIENT_ID",
        "ACCORD_OIDC_CLIENT_SECRET",
        "ACCORD_OIDC_EMAIL_CLAIM",
        "ACCORD_OIDC_ALLOWED_DOMAINS",
        "ACCORD_PASSWORD_SIGN_IN",
    ] {
        assert!(
            help.contains(variable),
            "--help does not mention {variable}"
        );
    }
    for hook in ["fault-pause", "bench", "FAULT_PAUSE", "BENCH"] {
        assert!(!help.contains(hook), "--help shows the test hook {hook}");
    }
}

#[tokio::test]
async fn user_add_prints_a_one_time_link_that_sets_the_password() {
    let app = TestApp::spawn().await;
    let output = accord(
        &app.data,
        &[
            "user",
            "add",
            "--email",
            "ravi@example.com",
            "--name",
            "Ravi Menon",
            "--admin",
        ],
    )
    .await;
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let path = &stdout[stdout.find("/password/").expect("a link is printed")..];
    let path = path.split_whitespace().next().unwrap();
    let client = app.client();
    let fields = [
        ("password", crate::helpers::PASSWORD),
        ("password_confirmation", crate::helpers::PASSWORD),
    ];
    let set = client.post_form(path, &fields).await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    client
        .sign_in("ravi@example.com", crate::helpers::PASSWORD)
        .await;
    assert_eq!(client.page("/admin/users").await.0, StatusCode::OK);

    let again = accord(
        &app.data,
        &[
            "user",
            "add",
            "--email",
            "ravi@example.com",
            "--name",
            "Ravi",
        ],
    )
    .await;
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr_of(&again).contains("already an account"));
}

#[tokio::test]
async fn demo_prints_credentials_that_sign_in() {
    let app = TestApp::spawn().await;
    let output = accord(&app.data, &["demo"]).await;
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("DEMO CREDENTIALS"));
    let line = stdout
        .lines()
        .find(|line| line.contains("sam.okafor@accord.example"))
        .expect("the CX product manager is a demo account");
    let password = line.split_whitespace().last().unwrap();
    let client = app.client();
    let response = client.sign_in("sam.okafor@accord.example", password).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(client.page("/").await.1.contains("Sam Okafor"));
    let (status, room) = client.page("/rooms/1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(room.contains("Northwind Logistics"));
    assert!(
        room.contains("Extend Northwind&#39;s premium support trial")
            || room.contains("Extend Northwind's premium support trial")
    );
    assert!(room.contains("A first look at your capacity forecast"));
    assert!(
        room.contains("From Jordan Reyes") && room.contains("EU-2 grows fastest"),
        "Jordan's reply is in the room's conversation"
    );
    assert_eq!(
        crate::helpers::count(
            &app,
            "SELECT COUNT(*) FROM questions WHERE answered_in_message IS NOT NULL"
        )
        .await,
        1,
        "it answered the open question"
    );
    let waiting =
        crate::helpers::count(&app, "SELECT id FROM drafts WHERE current_revision = 2").await;
    let (_, draft) = client.page(&format!("/rooms/1/drafts/{waiting}")).await;
    assert!(
        draft.contains(
            "Dana Whitfield objects to revision 2: Two clusters are not the whole estate"
        ),
        "Dana objects to the demo draft, with her reason"
    );
    assert!(
        room.contains("Away until") && room.contains("Elena Vasquez stands in"),
        "Sam is away with a stand-in, on the room page"
    );
    assert_eq!(
        crate::helpers::count(&app, "SELECT COUNT(*) FROM outbox WHERE state = 'sent'").await,
        1
    );
    let (_, pre_read) = client.page("/rooms/1/pre-read").await;
    assert!(
        pre_read.contains("Northwind needs a per-cluster forecast before its January order window")
    );
    let waiting_update = crate::helpers::count(
        &app,
        "SELECT id FROM leadership_updates WHERE published_version IS NULL",
    )
    .await;
    let (_, update) = client
        .page(&format!("/rooms/1/updates/{waiting_update}"))
        .await;
    assert!(
        update.contains("Sam Okafor has not aligned on the current revision"),
        "the newer update waits for Sam"
    );
    let again = accord(&app.data, &["demo"]).await;
    assert!(
        again.status.success(),
        "a second `accord demo` works: {}",
        stderr_of(&again)
    );
    assert_eq!(
        crate::helpers::count(&app, "SELECT COUNT(*) FROM rooms").await,
        2,
        "Northwind's room and its closed history room, once however often the demo loads"
    );
    assert_eq!(
        crate::helpers::count(
            &app,
            "SELECT COUNT(*) FROM retrospectives r JOIN retro_alignments a ON a.retrospective_id = r.id \
             WHERE a.revision = r.revision"
        )
        .await,
        2,
        "the closed room's retrospective is written and aligned by both PMs"
    );
    assert_eq!(
        crate::helpers::count(&app, "SELECT COUNT(*) FROM inbound_messages").await,
        1,
        "the reply is filed once however often the demo loads"
    );
    app.outbox_settled().await;
}

#[tokio::test]
async fn reindex_rebuilds_every_question_and_says_how_many() {
    let data = TestData::new().await;
    let demo = accord(&data, &["demo"]).await;
    assert!(demo.status.success(), "{}", stderr_of(&demo));
    let output = accord(&data, &["reindex"]).await;
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "Rebuilt the similarity terms of 5 questions."
    );
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let data = TestData::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .env("ACCORD_DATA_DIR", data.dir.path())
        .env("ACCORD_DATABASE_URL", &data.database_url)
        .env("ACCORD_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = Client {
        http: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
    };
    let mut ready = false;
    for _ in 0..200 {
        if let Ok(response) = client.http.get(client.url("/healthz")).send().await {
            ready = response.status() == StatusCode::OK;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(ready, "the server did not come up");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Accord is running at"));
    assert!(stdout.contains("/setup/"));
    assert!(stdout.contains("Accord stopped."));
    // The request log went to a pipe, not a terminal: plain text, no colour codes.
    let stderr = stderr_of(&output);
    assert!(stderr.contains("INFO"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
}

/// Runs the binary as an unprivileged user, since permissions do not bind root: as `nobody`
/// (through `runuser`, from a copy of the binary anyone may run) when the tests run as root.
fn accord_unprivileged(envs: &[(&str, &std::path::Path)]) -> Output {
    use std::os::unix::fs::PermissionsExt;
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    let copy_dir = tempfile::tempdir().unwrap();
    let mut command = if root {
        std::fs::set_permissions(copy_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let copy = copy_dir.path().join("accord");
        std::fs::copy(env!("CARGO_BIN_EXE_accord"), &copy).unwrap();
        let mut command = Command::new("runuser");
        command.args(["-u", "nobody", "--"]).arg(copy);
        command
    } else {
        Command::new(env!("CARGO_BIN_EXE_accord"))
    };
    command
        .args(["user", "add", "--email", "a@example.com", "--name", "A"])
        .env_remove("ACCORD_DATABASE_URL")
        .env_remove("ACCORD_SMTP_URL");
    for (name, value) in envs {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// A folder `nobody` (or the test user) may enter, and the user's own folder in it.
fn shared_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[tokio::test]
async fn an_unwritable_data_directory_is_one_line_naming_accord_data_dir() {
    use std::os::unix::fs::PermissionsExt;
    let parent = shared_dir();
    let data = parent.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).unwrap();
    let output = accord_unprivileged(&[("ACCORD_DATA_DIR", &data)]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("accord: ACCORD_DATA_DIR: "), "{stderr}");
    assert!(stderr.contains("not writable"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no colour codes in redirected output"
    );
}

#[tokio::test]
async fn a_read_only_database_file_is_one_line_naming_accord_data_dir() {
    use std::os::unix::fs::PermissionsExt;
    let parent = shared_dir();
    let data = parent.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).unwrap();
    let file = data.join("accord.db");
    std::fs::write(&file, b"").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
    let output = accord_unprivileged(&[("ACCORD_DATA_DIR", &data)]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("accord: ACCORD_DATA_DIR: "), "{stderr}");
    assert!(stderr.contains("accord.db is not writable"), "{stderr}");
}

#[tokio::test]
async fn a_refused_postgresql_connection_says_connection_refused_at_once() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let output = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["user", "add", "--email", "a@example.com", "--name", "A"])
        .env(
            "ACCORD_DATABASE_URL",
            format!("postgres://accord@127.0.0.1:{port}/accord"),
        )
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "accord: ACCORD_DATABASE_URL: cannot open the database: connection refused"
    );
}
