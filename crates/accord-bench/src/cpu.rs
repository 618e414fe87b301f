//! CPU time per scenario, read from `/proc`: the server under test's, the database server's when
//! it runs on this machine (PostgreSQL; SQLite runs inside the server), and the load generator's
//! own. On a machine whose cores the three share, the time each request costs is a steadier
//! measure than its rate, which moves with whatever else the machine is doing.

use std::time::{Duration, Instant};

/// Clock ticks per second of `/proc/<pid>/stat`'s times (`USER_HZ`; 100 on every Linux
/// architecture Accord builds for).
const TICKS_PER_SECOND: u64 = 100;

/// CPU time used so far, per party, and when it was read.
#[derive(Clone, Copy, Debug)]
pub struct Reading {
    at: Instant,
    server: Duration,
    database: Option<Duration>,
    generator: Duration,
    machine: Machine,
}

/// The whole machine's idle time and the time the hypervisor gave its cores to someone else
/// (`steal`), from `/proc/stat`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Machine {
    idle: Duration,
    stolen: Duration,
}

/// What one scenario's window cost: each party's CPU time, and how long the window was.
#[derive(Clone, Copy, Debug, Default)]
pub struct Spent {
    pub wall: Duration,
    pub server: Duration,
    /// `None` when no database server runs on this machine (SQLite, or a remote PostgreSQL).
    pub database: Option<Duration>,
    pub generator: Duration,
    /// Cores' time nobody used, and time the hypervisor took for other machines.
    pub idle: Duration,
    pub stolen: Duration,
}

impl Reading {
    /// Reads the CPU time of process `server`, of every `postgres` process on the machine if
    /// `database_server` (the database is not inside the server), and of this process.
    pub fn now(server: u32, database_server: bool) -> Reading {
        Reading {
            at: Instant::now(),
            server: process_cpu(server).unwrap_or_default(),
            database: database_server.then(postgres_cpu).flatten(),
            generator: process_cpu(std::process::id()).unwrap_or_default(),
            machine: std::fs::read_to_string("/proc/stat")
                .ok()
                .and_then(|stat| machine_in(&stat))
                .unwrap_or_default(),
        }
    }

    /// What was spent between `self` and `later`.
    pub fn until(&self, later: &Reading) -> Spent {
        Spent {
            wall: later.at.duration_since(self.at),
            server: later.server.saturating_sub(self.server),
            database: match (self.database, later.database) {
                (Some(before), Some(after)) => Some(after.saturating_sub(before)),
                _ => None,
            },
            generator: later.generator.saturating_sub(self.generator),
            idle: later.machine.idle.saturating_sub(self.machine.idle),
            stolen: later.machine.stolen.saturating_sub(self.machine.stolen),
        }
    }
}

impl Spent {
    /// CPU microseconds per request of the server, and of the database server if it is here.
    pub fn per_request(&self, requests: usize) -> (f64, Option<f64>) {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / requests.max(1) as f64;
        (per(self.server), self.database.map(per))
    }

    /// How many cores each party kept busy on average: server, database, load generator.
    pub fn cores(&self) -> (f64, Option<f64>, f64) {
        (
            self.cores_of(self.server),
            self.database.map(|d| self.cores_of(d)),
            self.cores_of(self.generator),
        )
    }

    /// How many cores were idle, and how many the hypervisor took, on average.
    pub fn cores_left(&self) -> (f64, f64) {
        (self.cores_of(self.idle), self.cores_of(self.stolen))
    }

    fn cores_of(&self, spent: Duration) -> f64 {
        spent.as_secs_f64() / self.wall.as_secs_f64().max(1e-9)
    }
}

/// User and system time of `pid`, with that of its children it has waited for (so that a
/// PostgreSQL backend that exits during a window still counts, in the postmaster's total).
fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    times_in(&stat)
}

/// The sum of `utime`, `stime`, `cutime` and `cstime` in one `/proc/<pid>/stat` line.
fn times_in(stat: &str) -> Option<Duration> {
    // The command name is in parentheses and may hold spaces: fields are counted after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // `state` is field 3 of the line and the first after the name; utime is field 14.
    let ticks: u64 = fields
        .get(11..15)?
        .iter()
        .map(|f| f.parse::<i64>().map(|t| t.max(0) as u64))
        .sum::<Result<u64, _>>()
        .ok()?;
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

/// The machine's idle (with I/O wait) and stolen time in `/proc/stat`'s first line:
/// `cpu user nice system idle iowait irq softirq steal …`.
fn machine_in(stat: &str) -> Option<Machine> {
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let time = |t: u64| Duration::from_millis(t * 1000 / TICKS_PER_SECOND);
    Some(Machine {
        idle: time(ticks.get(3)? + ticks.get(4)?),
        stolen: time(*ticks.get(7)?),
    })
}

/// The command name in one `/proc/<pid>/stat` line.
fn name_in(stat: &str) -> Option<&str> {
    Some(&stat[stat.find('(')? + 1..stat.rfind(')')?])
}

/// The CPU time of every `postgres` process on this machine, or `None` if there is none.
fn postgres_cpu() -> Option<Duration> {
    let mut total = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if name_in(&stat) == Some("postgres")
            && let Some(spent) = times_in(&stat)
        {
            total = Some(total.unwrap_or_default() + spent);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_after_a_name_with_spaces_and_parentheses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
        // utime stime cutime cstime …
        let stat = "4242 (postgres: a (b) c) S 1 2 3 4 5 6 7 8 9 10 150 50 30 20 20 0 1 0";
        assert_eq!(name_in(stat), Some("postgres: a (b) c"));
        assert_eq!(times_in(stat), Some(Duration::from_millis(2_500)));
        assert_eq!(times_in("4242 (short) S 1 2"), None);
    }

    #[test]
    fn idle_and_stolen_time_are_read_from_the_machines_line() {
        let stat = "cpu  283049 0 61620 666936 14365 0 14012 1942 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n";
        assert_eq!(
            machine_in(stat),
            Some(Machine {
                idle: Duration::from_millis(6_813_010),
                stolen: Duration::from_millis(19_420),
            })
        );
        assert_eq!(machine_in("cpu0 1 2 3\n"), None);
    }

    #[test]
    fn this_process_has_a_cpu_time_and_a_busy_loop_adds_to_it() {
        let before = process_cpu(std::process::id()).expect("this process");
        let started = Instant::now();
        let mut x = 0u64;
        while started.elapsed() < Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let after = process_cpu(std::process::id()).expect("this process");
        assert!(after > before, "{before:?} → {after:?}");
    }

    #[test]
    fn spent_time_is_divided_per_request_and_per_second() {
        let spent = Spent {
            wall: Duration::from_secs(2),
            server: Duration::from_millis(1_000),
            database: Some(Duration::from_millis(3_000)),
            generator: Duration::from_millis(500),
            idle: Duration::from_millis(200),
            stolen: Duration::from_millis(100),
        };
        assert_eq!(spent.per_request(10_000), (100.0, Some(300.0)));
        assert_eq!(spent.cores(), (0.5, Some(1.5), 0.25));
        assert_eq!(spent.cores_left(), (0.1, 0.05));
        let sqlite = Spent {
            database: None,
            ..spent
        };
        assert_eq!(sqlite.per_request(10_000).1, None);
    }
}
