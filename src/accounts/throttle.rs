//! Failed sign-ins slow down, per account and per client address, with a growing wait.
//!
//! The rule is a pure function of (failures so far, last failure, now); the counts live in the
//! database so every instance sees them. Keys for accounts are digests of the typed email, so the
//! table never stores an address and an unknown email is throttled exactly like a known one.

use std::net::IpAddr;
use std::time::Duration;

use sqlx::Row;

use crate::clock::Millis;
use crate::db::Db;
use crate::secrets::digest;

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Failures allowed before any wait.
    pub free_failures: i64,
    /// The first wait; each further failure doubles it.
    pub first_wait: Duration,
    pub longest_wait: Duration,
    /// A quiet period after which the count starts again.
    pub forget_after: Duration,
}

pub const PER_ACCOUNT: Policy = Policy {
    free_failures: 3,
    first_wait: Duration::from_secs(30),
    longest_wait: Duration::from_secs(15 * 60),
    forget_after: Duration::from_secs(3600),
};

pub const PER_ADDRESS: Policy = Policy {
    free_failures: 10,
    first_wait: Duration::from_secs(30),
    longest_wait: Duration::from_secs(15 * 60),
    forget_after: Duration::from_secs(3600),
};

/// How long the next attempt must wait after `failures` failures, the last at `last_failure_at`.
pub fn wait(
    policy: &Policy,
    failures: i64,
    last_failure_at: Millis,
    now: Millis,
) -> Option<Duration> {
    let since = Duration::from_millis(now.saturating_sub(last_failure_at).max(0) as u64);
    if failures < policy.free_failures || since >= policy.forget_after {
        return None;
    }
    let doublings = (failures - policy.free_failures).min(20) as u32;
    let delay = policy
        .first_wait
        .saturating_mul(1 << doublings)
        .min(policy.longest_wait);
    delay.checked_sub(since).filter(|left| !left.is_zero())
}

/// The two throttle keys of one attempt.
pub struct Keys {
    pub account: String,
    pub address: String,
}

impl Keys {
    pub fn new(typed_email: &str, address: IpAddr) -> Keys {
        Keys {
            account: format!("account:{}", digest(&typed_email.trim().to_lowercase())),
            address: format!("address:{address}"),
        }
    }

    fn with_policies(&self) -> [(&str, &Policy); 2] {
        [(&self.account, &PER_ACCOUNT), (&self.address, &PER_ADDRESS)]
    }
}

/// The longest wait either key imposes right now, if any.
pub async fn current_wait(db: &Db, keys: &Keys, now: Millis) -> sqlx::Result<Option<Duration>> {
    let mut longest = None;
    for (key, policy) in keys.with_policies() {
        let row =
            sqlx::query("SELECT failures, last_failure_at FROM sign_in_throttle WHERE key = $1")
                .bind(key)
                .fetch_optional(db.reader())
                .await?;
        if let Some(row) = row {
            let left = wait(policy, row.try_get(0)?, row.try_get(1)?, now);
            longest = longest.max(left);
        }
    }
    Ok(longest)
}

/// Counts one more failure for both keys (a quiet period resets the count first).
pub async fn record_failure(db: &Db, keys: &Keys, now: Millis) -> sqlx::Result<()> {
    for (key, policy) in keys.with_policies() {
        let stale_before = now - policy.forget_after.as_millis() as i64;
        sqlx::query(
            "INSERT INTO sign_in_throttle (key, failures, last_failure_at) VALUES ($1, 1, $2) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN sign_in_throttle.last_failure_at < $3 THEN 1 \
                             ELSE sign_in_throttle.failures + 1 END, \
             last_failure_at = $2",
        )
        .bind(key)
        .bind(now)
        .bind(stale_before)
        .execute(db.writer())
        .await?;
    }
    Ok(())
}

/// A successful sign-in clears the account's count (the address keeps its own).
pub async fn forget_account(db: &Db, keys: &Keys) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sign_in_throttle WHERE key = $1")
        .bind(&keys.account)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Drops counts nobody has added to for a day.
pub async fn delete_stale(db: &Db, now: Millis) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sign_in_throttle WHERE last_failure_at < $1")
        .bind(now - 24 * 3600 * 1000)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// "30 seconds", "2 minutes": how a wait is said to a person.
pub fn in_words(wait: Duration) -> String {
    let secs = wait.as_secs_f64().ceil() as u64;
    match secs {
        0..=1 => "1 second".to_owned(),
        2..=90 => format!("{secs} seconds"),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1000;

    #[test]
    fn the_first_failures_are_free() {
        for failures in 0..3 {
            assert_eq!(wait(&PER_ACCOUNT, failures, 0, 1), None);
        }
    }

    #[test]
    fn the_wait_doubles_with_each_failure_and_is_capped() {
        let waits: Vec<u64> = (3..10)
            .map(|n| wait(&PER_ACCOUNT, n, 0, 0).unwrap().as_secs())
            .collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 900, 900]);
    }

    #[test]
    fn the_wait_shrinks_as_time_passes_and_then_ends() {
        assert_eq!(
            wait(&PER_ACCOUNT, 3, 0, 10 * S),
            Some(Duration::from_secs(20))
        );
        assert_eq!(wait(&PER_ACCOUNT, 3, 0, 30 * S), None);
    }

    #[test]
    fn a_quiet_hour_forgets_the_failures() {
        assert_eq!(wait(&PER_ACCOUNT, 9, 0, 3600 * S), None);
    }

    #[test]
    fn addresses_get_more_free_failures_than_accounts() {
        assert_eq!(wait(&PER_ADDRESS, 9, 0, 0), None);
        assert!(wait(&PER_ADDRESS, 10, 0, 0).is_some());
    }

    #[test]
    fn account_keys_ignore_case_and_never_contain_the_email() {
        let ip = "127.0.0.1".parse().unwrap();
        let a = Keys::new("Dana@Example.com ", ip);
        let b = Keys::new("dana@example.com", ip);
        assert_eq!(a.account, b.account);
        assert!(!a.account.contains("dana"));
        assert_eq!(a.address, "address:127.0.0.1");
    }

    #[test]
    fn waits_are_said_in_words() {
        assert_eq!(in_words(Duration::from_millis(400)), "1 second");
        assert_eq!(in_words(Duration::from_secs(30)), "30 seconds");
        assert_eq!(in_words(Duration::from_secs(900)), "15 minutes");
    }
}
