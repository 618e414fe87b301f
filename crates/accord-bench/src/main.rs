//! `accord-bench`: builds a realistic dataset, starts the release `accord` on it as a separate
//! process, signs in as a real member and drives keep-alive HTTP load through each scenario.
//! Prints a table and one final JSON line; exits non-zero when any request failed.
//!
//! `cargo build --release --bins && target/release/accord-bench --rooms 10000`

mod bulk;
mod cpu;
mod dataset;
mod load;
mod outbox;
mod server;
mod smtp;

use std::path::PathBuf;

use std::time::{Duration, Instant};

use accord::db::Db;
use clap::Parser;
use load::{Request, Stats};
use outbox::{OutboxResult, outbox_scenario};
use server::{Server, sign_in, start};

/// Load benchmark for Accord.
#[derive(Parser, Debug)]
struct Args {
    /// Rooms in the dataset.
    #[arg(long, default_value_t = 1000)]
    rooms: i64,
    /// Seconds of load per scenario.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Messages queued for the outbox scenario.
    #[arg(long, default_value_t = 2000)]
    emails: usize,
    /// Keep the dataset afterwards: its folder, or its PostgreSQL database (either is printed).
    #[arg(long)]
    keep: bool,
    /// Run on this PostgreSQL server (a fresh database is created on it) instead of SQLite.
    #[arg(long)]
    postgres: Option<String>,
    /// Open room pages polling at once in the watchers scenario.
    #[arg(long, default_value_t = 2000)]
    watchers: usize,
    /// Run only the scenarios whose name contains this text, or one of these comma-separated texts.
    #[arg(long)]
    only: Option<String>,
}

const CEILING: &str = "ceiling (static page of the same size)";
/// The inbound door the benchmark's server opens (a real setting, not a benchmark knob).
pub const INBOUND_ADDRESS: &str = "escalations@accord.bench";
pub const INBOUND_SECRET: &str = "bench-inbound-secret-0123456789";
const ROOM_PAGE: &str = "room page";
const WRITE_MIX: &str = "write mix";
const DASHBOARD_LIVE: &str = "dashboard live check, nothing changed";
const WATCHERS: &str = "live checks of 2,000 open pages (+ writes)";
const WRITES_WATCHED: &str = "write mix while 2,000 pages watch";
/// Long enough for every watcher to poll several times.
const WATCHING_AT_LEAST: Duration = Duration::from_secs(10);

/// One row of results.
struct Row {
    name: &'static str,
    stats: Stats,
    rss: f64,
    /// What the row's window cost in CPU time.
    cpu: cpu::Spent,
    /// Whether another row was measured in the same window (the watchers and the writes under
    /// them): its CPU time is theirs together, not per request of either.
    shared_window: bool,
}

/// Where each scenario runs, on how many connections, and for how long.
struct Scenarios<'a> {
    db: &'a Db,
    server: &'a Server,
    connections: usize,
    duration: Duration,
}

impl Scenarios<'_> {
    /// Runs one scenario, `requests` on keep-alive connections as `cookie`'s session, once the
    /// outbox has delivered what earlier scenarios queued.
    async fn measure(
        &self,
        name: &'static str,
        cookie: &str,
        requests: Vec<Request>,
    ) -> anyhow::Result<Row> {
        outbox::settle(self.db).await?;
        let server = self.server;
        let before = server.cpu();
        let stats = load::run(
            server.addr,
            cookie,
            requests,
            self.connections,
            self.duration,
        )
        .await;
        Ok(Row {
            name,
            cpu: before.until(&server.cpu()),
            rss: server.peak_rss_mb(),
            stats,
            shared_window: false,
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let data_dir = tempfile_dir()?;
    let (database_url, backend) = match &args.postgres {
        Some(server) => (fresh_postgres(server).await?, "postgres"),
        None => (
            format!("sqlite://{}?mode=rwc", data_dir.join("accord.db").display()),
            "sqlite",
        ),
    };
    let now = chrono::Utc::now().timestamp_millis();
    let built = Instant::now();
    let db = Db::connect(&database_url).await?;
    let fixture = dataset::build(&db, args.rooms, now).await?;
    eprintln!(
        "dataset: {} rooms in {:.1} s",
        args.rooms,
        built.elapsed().as_secs_f64()
    );

    let (sink, smtp_port) = smtp::Sink::start().await;
    // First start sizes the ceiling to a real room page; the second start is the measured one.
    let (server, _) = start(&database_url, &data_dir, smtp_port, 1).await?;
    let (cookie, _) = sign_in(server.addr, &fixture.email, &fixture.password).await?;
    let (_, _, page) = load::once(
        server.addr,
        &Request::get(format!("/rooms/{}", fixture.room)),
        &cookie,
    )
    .await
    .map_err(anyhow::Error::msg)?;
    drop(server);
    let (server, ready_in) = start(&database_url, &data_dir, smtp_port, page.len()).await?;
    let (cookie, token) = sign_in(server.addr, &fixture.email, &fixture.password).await?;
    // Each page names the URL it polls.
    let room_poll = poll_url(
        server.addr,
        &format!("/rooms/{}", fixture.room),
        &cookie,
        "/rooms/",
    )
    .await?;
    let (draft_room, draft) = fixture.edit_drafts[0];
    let draft_page = format!("/rooms/{draft_room}/drafts/{draft}");
    let draft_poll = poll_url(server.addr, &draft_page, &cookie, "/rooms/").await?;
    let dashboard_poll = poll_url(server.addr, "/", &cookie, "/dashboard/live?").await?;

    let retrospective = closed_room(server.addr, &cookie, &token).await?;
    let duration = Duration::from_secs(args.seconds);
    let room = fixture.room;
    let scenarios = Scenarios {
        db: &db,
        server: &server,
        connections: args.connections,
        duration,
    };
    let every: Vec<(&'static str, Vec<Request>)> = vec![
        (CEILING, vec![Request::get("/bench/ceiling")]),
        ("dashboard", vec![Request::get("/")]),
        (ROOM_PAGE, vec![Request::get(format!("/rooms/{room}"))]),
        (
            "room with 5,000 events",
            vec![Request::get(format!("/rooms/{}", fixture.big_room))],
        ),
        (
            "pre-read",
            vec![Request::get(format!("/rooms/{room}/pre-read"))],
        ),
        ("leadership index", vec![Request::get("/pre-reads")]),
        ("draft page", vec![Request::get(draft_page.clone())]),
        ("settings", vec![Request::get("/settings")]),
        (
            "live check, nothing changed",
            vec![Request::poll(room_poll)],
        ),
        (
            "draft live check, nothing changed",
            vec![Request::poll(draft_poll)],
        ),
        (DASHBOARD_LIVE, vec![Request::poll(dashboard_poll)]),
        (
            "room with 1,000 received messages",
            vec![Request::get(format!("/rooms/{}", fixture.inbox_room))],
        ),
        (
            "customer message page",
            vec![Request::get(format!(
                "/rooms/{}/messages/{}",
                fixture.inbox_room,
                dataset::INBOX_MESSAGES
            ))],
        ),
        (
            "escalation page",
            vec![Request::get(format!(
                "/rooms/{}/escalations/1",
                fixture.approve_drafts[0].0
            ))],
        ),
        (
            "engagement page",
            vec![Request::get(format!("/rooms/{room}/engagements/1"))],
        ),
        (
            "sync agenda",
            vec![Request::get(format!("/rooms/{room}/sync"))],
        ),
        (
            "planning an engagement",
            vec![Request::get(format!("/rooms/{room}/engagements/new"))],
        ),
        (
            "alignment link page",
            vec![Request::get(format!("/align/{}", dataset::ALIGN_TOKEN))],
        ),
        (
            "retrospective",
            vec![Request::get(format!(
                "/rooms/{retrospective}/retrospective"
            ))],
        ),
        (WRITE_MIX, write_mix(&fixture, &token, Decisions::FromFirst)),
        ("inbound filing (HTTP)", inbound_mail(&fixture)),
    ];
    let selected = |name: &str| {
        (args.only.as_deref()).is_none_or(|only| only.split(',').any(|o| name.contains(o)))
    };
    let mut rows = Vec::new();
    for (name, mut requests) in every.into_iter().filter(|(name, _)| selected(name)) {
        if name == DASHBOARD_LIVE {
            // Its fingerprint names the minute: measured within one minute, fetched in it.
            pin_minute(duration).await;
            let poll = poll_url(server.addr, "/", &cookie, "/dashboard/live?").await?;
            requests = vec![Request::poll(poll)];
        }
        rows.push(scenarios.measure(name, &cookie, requests).await?);
    }
    if selected(WATCHERS) {
        // The write mix again, now while 2,000 open room pages poll: the live checks' latency
        // under writes, and what the polling costs the writes.
        let duration = duration.max(WATCHING_AT_LEAST);
        // The member's ordinary rooms, most of them written by the mix. Not the rooms built to
        // stress one page (5,000 events, 1,000 received messages, the 5,000-decision pool the
        // mix decides from): each has its own scenario.
        let watched: Vec<i64> = (2..dataset::OWN_ROOMS)
            .filter(|r| *r != fixture.big_room && *r != fixture.inbox_room)
            .collect();
        // Each page in a session of its own (2,000 devices), as the team's would be.
        let sessions = server::more_sessions(&db, &cookie, args.watchers).await?;
        let watchers = load::watch(server.addr, &sessions, &watched, duration);
        // The writes start once every page is open (each page's first answer renders it).
        let writes = async {
            tokio::time::sleep(load::POLL_EVERY).await;
            let requests = write_mix(&fixture, &token, Decisions::FromLast);
            let writing = duration.saturating_sub(load::POLL_EVERY);
            load::run(server.addr, &cookie, requests, args.connections, writing).await
        };
        outbox::settle(&db).await?;
        let before = server.cpu();
        let (watchers, writes) = tokio::join!(watchers, writes);
        let cpu = before.until(&server.cpu());
        for (name, stats) in [(WATCHERS, watchers), (WRITES_WATCHED, writes)] {
            rows.push(Row {
                name,
                rss: server.peak_rss_mb(),
                stats,
                cpu,
                shared_window: true,
            });
        }
    }
    // A director's view: member 40 is the leadership member of every room.
    const INSIGHTS: &str = "insights (leadership member of every room)";
    const DIRECTOR_INDEX: &str = "leadership index (leadership member of every room)";
    const DIRECTOR_SETTINGS: &str = "settings (leadership member of every room)";
    const ADMIN_INSIGHTS: &str = "insights (administrator, in no room)";
    let director = match [INSIGHTS, DIRECTOR_INDEX, DIRECTOR_SETTINGS]
        .iter()
        .any(|name| selected(name))
    {
        true => Some(
            sign_in(server.addr, "member40@accord.bench", &fixture.password)
                .await?
                .0,
        ),
        false => None,
    };
    if let Some(director) = director.as_deref().filter(|_| selected(INSIGHTS)) {
        let requests = vec![Request::get("/insights?days=0")];
        // The first view computes the reading (every record of every room); the scenario then
        // measures the views that follow, served while nothing changed.
        let started = Instant::now();
        load::once(server.addr, &requests[0], director)
            .await
            .map_err(anyhow::Error::msg)?;
        println!(
            "insights: first view (computed) in {} ms",
            started.elapsed().as_millis()
        );
        rows.push(scenarios.measure(INSIGHTS, director, requests).await?);
    }
    if selected(ADMIN_INSIGHTS) {
        // An administrator in no room: the same reading (every room), a top bar of no rooms.
        let (admin, _) = sign_in(server.addr, dataset::ADMIN, &fixture.password).await?;
        let requests = vec![Request::get("/insights?days=0")];
        load::once(server.addr, &requests[0], &admin)
            .await
            .map_err(anyhow::Error::msg)?;
        rows.push(scenarios.measure(ADMIN_INSIGHTS, &admin, requests).await?);
    }
    if let Some(director) = director.as_deref().filter(|_| selected(DIRECTOR_INDEX)) {
        // The page leadership keeps open: the latest pre-read of the first 500 of every room.
        let requests = vec![Request::get("/pre-reads")];
        rows.push(
            scenarios
                .measure(DIRECTOR_INDEX, director, requests)
                .await?,
        );
    }
    if let Some(director) = director.as_deref().filter(|_| selected(DIRECTOR_SETTINGS)) {
        // A page that reads nothing of theirs but the top bar: what every page costs someone who
        // is in every room (the *Needs you* count's fingerprint).
        let requests = vec![Request::get("/settings")];
        rows.push(
            scenarios
                .measure(DIRECTOR_SETTINGS, director, requests)
                .await?,
        );
    }
    let outbox = match selected("outbox") {
        true => Some(
            outbox_scenario(&db, &server, &sink, &cookie, &token, &fixture, args.emails).await?,
        ),
        false => None,
    };
    report(
        &args,
        backend,
        ready_in,
        &rows,
        outbox.as_ref(),
        server.peak_rss_mb(),
    );
    db.close().await;
    let errors: usize = rows.iter().map(|r| r.stats.errors).sum::<usize>()
        + outbox.as_ref().map_or(0, |o| o.errors);
    match (args.keep, &args.postgres) {
        (true, None) => eprintln!("dataset kept in {}", data_dir.display()),
        (true, Some(_)) => eprintln!("dataset kept in {database_url}"),
        (false, postgres) => {
            drop(server);
            drop(std::fs::remove_dir_all(&data_dir));
            if let Some(server) = postgres {
                drop_postgres(server, &database_url).await?;
            }
        }
    }
    anyhow::ensure!(errors == 0, "{errors} requests failed");
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "accord-bench-{}",
        &accord::secrets::random_token()[..12]
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

async fn fresh_postgres(server: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let name = format!("accord_bench_{}", &accord::secrets::random_token()[..12]);
    let mut admin = sqlx::PgConnection::connect(server).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let mut url = url::Url::parse(server)?;
    url.set_path(&name);
    Ok(url.to_string())
}

/// Removes the database [`fresh_postgres`] created, once the server using it has stopped.
async fn drop_postgres(server: &str, database_url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let name = url::Url::parse(database_url)?
        .path()
        .trim_start_matches('/')
        .to_owned();
    let mut admin = sqlx::PgConnection::connect(server).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    Ok(())
}

/// Distinct customer replies, each to one of the member's rooms by its reply address, from that
/// room's contact: every request files a new message (none is a duplicate within a run).
fn inbound_mail(f: &dataset::Fixture) -> Vec<Request> {
    const MESSAGES: i64 = 30_000;
    let rooms: Vec<&(i64, i64)> = f.contact_of_room.iter().filter(|(r, _)| *r > 4).collect();
    let mut requests = Vec::new();
    for m in 0..MESSAGES {
        let (room, contact) = rooms[m as usize % rooms.len()];
        let customer = f.customer_of_contact(*contact);
        let token = dataset::reply_token(*room);
        let (local, domain) = INBOUND_ADDRESS.split_once('@').unwrap_or_default();
        let raw = format!(
            "From: Contact {contact} <contact{contact}@c{customer}.example>\r\n\
To: {local}+{token}@{domain}\r\nSubject: Re: capacity\r\n\
Message-ID: <bench-inbound-{m}-{}@c{customer}.example>\r\n\
Date: Tue, 01 Dec 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Thanks, the forecast matches what we see.\r\n\r\nOn Monday, you wrote:\r\n> Our forecast\r\n",
            accord::secrets::random_token()[..8].to_owned()
        );
        requests.push(Request::inbound(raw, INBOUND_SECRET));
    }
    requests
}

/// A room the benchmark's member opens and closes through the web forms, so its retrospective is
/// the one the product freezes at close; returns its id.
async fn closed_room(addr: std::net::SocketAddr, cookie: &str, token: &str) -> anyhow::Result<i64> {
    let open = Request::post(
        "/rooms/new",
        format!(
            "customer=1&title=Closed+for+the+retrospective&problem=Measured.&severity=S2\
             &my_kind=pm&communicator=1&csrf_token={token}"
        ),
    );
    let (status, head, _) = load::once(addr, &open, cookie)
        .await
        .map_err(anyhow::Error::msg)?;
    let room: i64 = load::header(&head, "location")
        .and_then(|at| at.strip_prefix("/rooms/")?.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("opening a room answered {status}"))?;
    let close = Request::post(
        format!("/rooms/{room}/closure"),
        format!("summary=Forecast+shipped&csrf_token={token}"),
    );
    let (status, _, _) = load::once(addr, &close, cookie)
        .await
        .map_err(anyhow::Error::msg)?;
    anyhow::ensure!(status == 303, "closing the room answered {status}");
    Ok(room)
}

/// Which decisions a write mix decides: each is decided once, so a second run takes them from
/// the other end of the pool.
#[derive(Clone, Copy)]
enum Decisions {
    FromFirst,
    FromLast,
}

/// Approve a draft, edit a draft, log a touch, decide — round robin.
fn write_mix(f: &dataset::Fixture, token: &str, order: Decisions) -> Vec<Request> {
    let mut requests = Vec::new();
    let decisions: Vec<&(i64, i64)> = match order {
        Decisions::FromFirst => f.decisions.iter().collect(),
        Decisions::FromLast => f.decisions.iter().rev().collect(),
    };
    let contact = |room: i64| {
        f.contact_of_room
            .iter()
            .find(|(r, _)| *r == room)
            .map_or(0, |(_, c)| *c)
    };
    for (i, (room, decision)) in decisions.into_iter().enumerate() {
        let (approve_room, approve_draft) = f.approve_drafts[i % f.approve_drafts.len()];
        let (edit_room, edit_draft) = f.edit_drafts[i % f.edit_drafts.len()];
        requests.push(Request::post(
            format!("/rooms/{approve_room}/drafts/{approve_draft}/approval"),
            format!("revision=2&csrf_token={token}"),
        ));
        requests.push(Request::post(
            format!("/rooms/{edit_room}/drafts/{edit_draft}/revisions"),
            format!(
                "to={}&subject=Forecast+update&body=Hello%2C%0A%0ARevision+{i}.&csrf_token={token}",
                contact(edit_room)
            ),
        ));
        requests.push(Request::post(
            format!("/rooms/{edit_room}/touches"),
            format!(
                "contact={}&channel=call&summary=Checked+in+{i}&csrf_token={token}",
                contact(edit_room)
            ),
        ));
        requests.push(Request::post(
            format!("/rooms/{room}/decisions/{decision}/outcome"),
            format!("outcome=decided&csrf_token={token}"),
        ));
    }
    requests
}

fn report(
    args: &Args,
    backend: &str,
    ready_in: Duration,
    rows: &[Row],
    outbox: Option<&OutboxResult>,
    peak_rss: f64,
) {
    println!(
        "accord-bench: {} rooms on {backend}, {} connections, {} s per scenario",
        args.rooms, args.connections, args.seconds
    );
    println!("start to ready: {:.0} ms", ready_in.as_secs_f64() * 1000.0);
    let stats = |name: &str| rows.iter().find(|r| r.name == name).map(|r| &r.stats);
    let ceiling_rps = stats(CEILING).map(Stats::rps);
    println!(
        "{:<52} {:>10} {:>8} {:>9} {:>9} {:>7} {:>9} {:>14} {:>16} {:>12}",
        "scenario",
        "req/s",
        "ceiling",
        "p50 ms",
        "p99 ms",
        "errors",
        "RSS MB",
        "CPU µs/req",
        "cores busy",
        "idle/stolen"
    );
    for row in rows {
        let vs_ceiling = ceiling_rps
            .map(|c| format!("{:.2}x", row.stats.rps() / c.max(1.0)))
            .unwrap_or_default();
        println!(
            "{:<52} {:>10.0} {:>8} {:>9.2} {:>9.2} {:>7} {:>9.1} {:>14} {:>16} {:>12}",
            row.name,
            row.stats.rps(),
            vs_ceiling,
            row.stats.quantile_ms(0.5),
            row.stats.quantile_ms(0.99),
            row.stats.errors,
            row.rss,
            cpu_per_request(row),
            cores_busy(&row.cpu),
            cores_left(&row.cpu)
        );
        if let Some(error) = &row.stats.first_error {
            println!("    first error: {error}");
        }
    }
    if let Some(outbox) = outbox {
        println!(
            "outbox: {:.0} emails/s, approval-to-pickup {:.1} ms, errors {}",
            outbox.emails_per_s, outbox.pickup_ms, outbox.errors
        );
    }
    if let (Some(watched), Some(alone), Some(writes)) =
        (stats(WATCHERS), stats(WRITE_MIX), stats(WRITES_WATCHED))
    {
        println!(
            "watchers: live checks p99 {:.1} ms; writes at {:.2}x their rate alone; {:.0}% of \
             the checks brought changes, {:.1} KB each",
            watched.quantile_ms(0.99),
            writes.rps() / alone.rps().max(1.0),
            100.0 * watched.changed as f64 / watched.requests.max(1) as f64,
            watched.changed_bytes as f64 / watched.changed.max(1) as f64 / 1024.0
        );
    }
    let (Some(ceiling), Some(room), Some(outbox)) = (stats(CEILING), stats(ROOM_PAGE), outbox)
    else {
        // A partial run (`--only`) has no JSON line: its targets are ratios between scenarios.
        return;
    };
    let ceiling = ceiling.rps();
    let scenarios: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                r#"{{"name":"{}","rps":{:.1},"p50_ms":{:.3},"p99_ms":{:.3},"errors":{},"peak_rss_mb":{:.1},"cpu":{}}}"#,
                r.name,
                r.stats.rps(),
                r.stats.quantile_ms(0.5),
                r.stats.quantile_ms(0.99),
                r.stats.errors,
                r.rss,
                cpu_json(r)
            )
        })
        .collect();
    let targets = format!(
        r#"{{"room_page_vs_ceiling":{:.2},"room_page_ratio_met":{},"room_p99_under_5ms":{},"watchers_p99_under_50ms":{},"writes_watched_within_20pct":{},"outbox_500_per_s":{},"pickup_under_100ms":{},"rss_under_150mb":{},"ready_under_200ms":{}}}"#,
        room.rps() / ceiling.max(1.0),
        room.rps() >= 0.3 * ceiling,
        room.quantile_ms(0.99) < 5.0,
        stats(WATCHERS).is_some_and(|w| w.quantile_ms(0.99) < 50.0),
        matches!((stats(WRITES_WATCHED), stats(WRITE_MIX)), (Some(w), Some(a)) if w.rps() >= 0.8 * a.rps()),
        outbox.emails_per_s >= 500.0,
        outbox.pickup_ms < 100.0,
        peak_rss < 150.0,
        ready_in < Duration::from_millis(200)
    );
    println!(
        r#"{{"rooms":{},"backend":"{backend}","connections":{},"seconds":{},"start_to_ready_ms":{:.1},"scenarios":[{}],"outbox":{{"emails_per_s":{:.1},"pickup_ms":{:.2},"errors":{}}},"peak_rss_mb":{:.1},"targets":{targets}}}"#,
        args.rooms,
        args.connections,
        args.seconds,
        ready_in.as_secs_f64() * 1000.0,
        scenarios.join(","),
        outbox.emails_per_s,
        outbox.pickup_ms,
        outbox.errors,
        peak_rss
    );
}

/// The server's CPU microseconds per request, plus the database server's when it runs here
/// ("accord+database"); blank for rows that share their window with another.
fn cpu_per_request(row: &Row) -> String {
    if row.shared_window {
        return String::new();
    }
    match row.cpu.per_request(row.stats.requests) {
        (server, Some(database)) => format!("{server:.0}+{database:.0}"),
        (server, None) => format!("{server:.0}"),
    }
}

/// The cores the server, the database server (when here) and the load generator kept busy.
fn cores_busy(spent: &cpu::Spent) -> String {
    match spent.cores() {
        (server, Some(database), generator) => {
            format!("{server:.2}/{database:.2}/{generator:.2}")
        }
        (server, None, generator) => format!("{server:.2}/-/{generator:.2}"),
    }
}

/// The cores left idle, and those the hypervisor took, during the window.
fn cores_left(spent: &cpu::Spent) -> String {
    let (idle, stolen) = spent.cores_left();
    format!("{idle:.2}/{stolen:.2}")
}

fn cpu_json(row: &Row) -> String {
    let (server, database, generator) = row.cpu.cores();
    let (idle, stolen) = row.cpu.cores_left();
    let (server_us, database_us) = row.cpu.per_request(row.stats.requests);
    let or_null = |v: Option<f64>| v.map_or("null".to_owned(), |v| format!("{v:.2}"));
    format!(
        r#"{{"server_cores":{server:.2},"database_cores":{},"generator_cores":{generator:.2},"idle_cores":{idle:.2},"stolen_cores":{stolen:.2},"server_us_per_request":{},"database_us_per_request":{},"shared_window":{}}}"#,
        or_null(database),
        or_null((!row.shared_window).then_some(server_us)),
        or_null(database_us.filter(|_| !row.shared_window)),
        row.shared_window
    )
}

/// Waits for the next minute when `duration` would not fit in what is left of this one.
async fn pin_minute(duration: Duration) {
    const MINUTE_MS: i64 = 60_000;
    let left = MINUTE_MS - chrono::Utc::now().timestamp_millis() % MINUTE_MS;
    let needed = duration.as_millis() as i64 + 1_000;
    if left < needed {
        tokio::time::sleep(Duration::from_millis(left as u64 + 100)).await;
    }
}

/// The URL `path`'s page polls (its `hx-get` that starts with `prefix` and names a version or
/// fingerprint), as the browser would request it.
async fn poll_url(
    addr: std::net::SocketAddr,
    path: &str,
    cookie: &str,
    prefix: &str,
) -> anyhow::Result<String> {
    let (_, _, page) = load::once(addr, &Request::get(path), cookie)
        .await
        .map_err(anyhow::Error::msg)?;
    load::poll_url_in(&page, prefix)
        .ok_or_else(|| anyhow::anyhow!("{path} does not poll {prefix}…"))
}
