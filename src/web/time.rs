//! How times are read from forms and shown on pages. Accord stores UTC epoch milliseconds and
//! shows UTC, saying so; relative phrases ("in 3 hours", "overdue by 2 days") carry the urgency.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use crate::clock::Millis;

/// A whole number however a template hands it over (`i64`, `&i64`, `&&i64`): askama passes
/// arguments by reference, and loop variables are references already.
pub trait Int {
    fn int(&self) -> i64;
}

impl Int for i64 {
    fn int(&self) -> i64 {
        *self
    }
}

impl<T: Int + ?Sized> Int for &T {
    fn int(&self) -> i64 {
        (**self).int()
    }
}

/// An optional whole number, handed over like [`Int`].
pub trait OptionalInt {
    fn optional_int(&self) -> Option<i64>;
}

impl OptionalInt for Option<i64> {
    fn optional_int(&self) -> Option<i64> {
        *self
    }
}

impl<T: OptionalInt + ?Sized> OptionalInt for &T {
    fn optional_int(&self) -> Option<i64> {
        (**self).optional_int()
    }
}

/// "21 Nov 2026, 14:30 UTC".
pub fn when(at: impl Int) -> String {
    match Utc.timestamp_millis_opt(at.int()).single() {
        Some(at) => at.format("%-d %b %Y, %H:%M UTC").to_string(),
        None => "an unknown time".to_owned(),
    }
}

/// The value for an `<input type="datetime-local">` (UTC).
pub fn to_input(at: Millis) -> String {
    Utc.timestamp_millis_opt(at)
        .single()
        .map(|at| at.format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// Reads a `datetime-local` value as UTC; empty means "not set".
pub fn parse_input(raw: &str) -> Result<Option<Millis>, &'static str> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let parsed = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| "Enter a date and time like 2026-11-21T14:30.")?;
    let at: DateTime<Utc> = Utc.from_utc_datetime(&parsed);
    Ok(Some(at.timestamp_millis()))
}

/// A span of time in the largest sensible unit: "5 minutes", "3 hours", "2 days".
pub fn span(millis: Millis) -> String {
    let minutes = millis.abs() / 60_000;
    let (n, unit) = match minutes {
        0 => return "less than a minute".to_owned(),
        1..=89 => (minutes, "minute"),
        90..=2159 => ((minutes + 30) / 60, "hour"),
        _ => ((minutes + 720) / 1440, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// "3 hours ago" or "in 3 hours".
pub fn relative(at: impl Int, now: impl Int) -> String {
    let (at, now) = (at.int(), now.int());
    if at <= now {
        format!("{} ago", span(now - at))
    } else {
        format!("in {}", span(at - now))
    }
}

/// A due date in words: "due in 2 days" or "overdue by 3 hours".
pub fn due(at: Millis, now: Millis) -> String {
    if at < now {
        format!("overdue by {}", span(now - at))
    } else {
        format!("due in {}", span(at - now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Millis = 60_000;

    #[test]
    fn instants_are_shown_in_utc_and_round_trip_through_inputs() {
        let at = parse_input("2026-11-21T14:30").unwrap().unwrap();
        assert_eq!(when(at), "21 Nov 2026, 14:30 UTC");
        assert_eq!(to_input(at), "2026-11-21T14:30");
        assert_eq!(parse_input("  ").unwrap(), None);
        assert!(parse_input("tomorrow").is_err());
    }

    #[test]
    fn spans_use_the_largest_sensible_unit() {
        assert_eq!(span(30_000), "less than a minute");
        assert_eq!(span(MIN), "1 minute");
        assert_eq!(span(45 * MIN), "45 minutes");
        assert_eq!(span(3 * 60 * MIN), "3 hours");
        assert_eq!(span(49 * 60 * MIN), "2 days");
    }

    #[test]
    fn due_dates_say_overdue_in_words() {
        assert_eq!(due(0, 2 * 60 * MIN), "overdue by 2 hours");
        assert_eq!(due(3 * 1440 * MIN, 0), "due in 3 days");
        assert_eq!(relative(0, 5 * MIN), "5 minutes ago");
        assert_eq!(relative(5 * MIN, 0), "in 5 minutes");
    }
}
