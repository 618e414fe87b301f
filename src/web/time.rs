//! How times are shown and read. Accord stores UTC epoch milliseconds; every page, email and form
//! shows and reads them in the reader's IANA time zone ([`Zone`]), naming it ("Tue 1 Dec, 09:51
//! CET"). Templates format through the [`filters`] here and nowhere else; relative phrases ("in 3
//! hours", "overdue by 2 days") carry the urgency.

use std::fmt::{self, Write as _};
use std::str::FromStr;

use chrono::{DateTime, Datelike, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::{OffsetName, Tz};

use crate::clock::Millis;

/// An IANA time zone ("Europe/Berlin"); UTC when nobody said otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone(Tz);

impl Default for Zone {
    fn default() -> Self {
        Zone::UTC
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Working hours on a contact's weekdays, local time: 08:00 until 18:00.
const WORKING_HOURS: std::ops::Range<u32> = 8..18;

impl Zone {
    pub const UTC: Zone = Zone(Tz::UTC);

    /// A zone by its IANA name ("America/Chicago"); `None` for anything else.
    pub fn parse(name: &str) -> Option<Zone> {
        Tz::from_str(name.trim()).ok().map(Zone)
    }

    /// A stored zone name, or `fallback` when it is missing or no longer known.
    pub fn or(name: Option<&str>, fallback: Zone) -> Zone {
        name.and_then(Zone::parse).unwrap_or(fallback)
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// Every zone a person can choose, by name.
    pub fn all() -> impl Iterator<Item = Zone> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| Zone(*tz))
    }

    fn local(&self, at: Millis) -> Option<DateTime<Tz>> {
        Utc.timestamp_millis_opt(at)
            .single()
            .map(|at| at.with_timezone(&self.0))
    }

    /// "Tue 1 Dec, 09:51 CET".
    pub fn when(&self, at: Millis) -> String {
        match self.local(at) {
            Some(local) => written(&local, Year::Left),
            None => "an unknown time".to_owned(),
        }
    }

    /// "Tue 1 Dec 2026, 09:51 CET": for records that outlive the year (pre-reads, the mail log).
    pub fn when_dated(&self, at: Millis) -> String {
        match self.local(at) {
            Some(local) => written(&local, Year::Shown),
            None => "an unknown time".to_owned(),
        }
    }

    /// "09:10 Tue": someone's wall clock at `at`.
    pub fn clock(&self, at: Millis) -> String {
        match self.local(at) {
            Some(local) => {
                let wall = local.naive_local();
                let mut out = String::with_capacity(9);
                push_two_digits(&mut out, wall.hour());
                out.push(':');
                push_two_digits(&mut out, wall.minute());
                out.push(' ');
                out.push_str(WEEKDAYS[wall.weekday().num_days_from_monday() as usize]);
                out
            }
            None => String::new(),
        }
    }

    /// Whether `at` falls on a weekday between 08:00 and 18:00 in this zone.
    pub fn is_working_hours(&self, at: Millis) -> bool {
        self.local(at).is_some_and(|local| {
            !matches!(local.weekday(), Weekday::Sat | Weekday::Sun)
                && WORKING_HOURS.contains(&local.hour())
        })
    }

    /// The value for an `<input type="datetime-local">`, in this zone.
    pub fn to_input(&self, at: Millis) -> String {
        self.local(at)
            .map(|local| local.format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default()
    }

    /// Reads a `datetime-local` value as a wall-clock time in this zone; empty means "not set".
    /// A time that occurs twice (clocks go back) is the first of the two; a time that never
    /// occurs (clocks go forward) is refused with a message saying so.
    pub fn parse_input(&self, raw: &str) -> Result<Option<Millis>, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let parsed = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
            .map_err(|_| "Enter a date and time like 2026-11-21T14:30.".to_owned())?;
        match self.0.from_local_datetime(&parsed) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => {
                Ok(Some(at.timestamp_millis()))
            }
            LocalResult::None => Err(format!(
                "{} does not exist in {}: the clocks skip it. Pick a time after the change.",
                parsed.format("%-d %b %Y, %H:%M"),
                self.name()
            )),
        }
    }
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

enum Year {
    Left,
    Shown,
}

/// "Tue 1 Dec, 09:51 CET" (or "Tue 1 Dec 2026, 09:51 CET"), written field by field: what
/// chrono's `format("%a %-d %b, %H:%M %Z")` writes, without parsing the pattern on every call
/// or going through `fmt` for each field (that was 6% of a room view, which shows a few dozen
/// times).
fn written(local: &DateTime<Tz>, year: Year) -> String {
    let wall = local.naive_local();
    let mut out = String::with_capacity(28);
    out.push_str(WEEKDAYS[wall.weekday().num_days_from_monday() as usize]);
    out.push(' ');
    if wall.day() >= 10 {
        out.push(digit(wall.day() / 10));
    }
    out.push(digit(wall.day() % 10));
    out.push(' ');
    out.push_str(MONTHS[wall.month0() as usize]);
    if let Year::Shown = year {
        let _ = write!(out, " {}", wall.year());
    }
    out.push_str(", ");
    push_two_digits(&mut out, wall.hour());
    out.push(':');
    push_two_digits(&mut out, wall.minute());
    out.push(' ');
    match local.offset().abbreviation() {
        Some(abbreviation) => out.push_str(abbreviation),
        // Zones without a name for their offset are shown as the offset ("+0330").
        None => {
            let _ = write!(out, "{}", local.offset());
        }
    }
    out
}

fn push_two_digits(out: &mut String, n: u32) {
    out.push(digit(n / 10));
    out.push(digit(n % 10));
}

/// The digit for `n`, a number below ten.
fn digit(n: u32) -> char {
    char::from_digit(n, 10).unwrap_or('?')
}

/// The askama filters every template formats times with: `{{ at|when(page.zone) }}`,
/// `{{ at|when_dated(zone) }}`, `{{ at|local_input(page.zone) }}`.
pub mod filters {
    use super::{Int, Zone};

    #[askama::filter_fn]
    pub fn when<T: Int>(at: T, _: &dyn askama::Values, zone: &Zone) -> askama::Result<String> {
        Ok(zone.when(at.int()))
    }

    #[askama::filter_fn]
    pub fn when_dated<T: Int>(
        at: T,
        _: &dyn askama::Values,
        zone: &Zone,
    ) -> askama::Result<String> {
        Ok(zone.when_dated(at.int()))
    }
}

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

/// A span of time in the largest sensible unit: "5 minutes", "3 hours", "2 days".
pub fn span(millis: Millis) -> String {
    let mut out = String::with_capacity(20);
    push_span(&mut out, millis);
    out
}

fn push_span(out: &mut String, millis: Millis) {
    let minutes = millis.abs() / 60_000;
    let (n, unit) = match minutes {
        0 => return out.push_str("less than a minute"),
        1..=89 => (minutes, "minute"),
        90..=2159 => ((minutes + 30) / 60, "hour"),
        _ => ((minutes + 720) / 1440, "day"),
    };
    let _ = write!(out, "{n} {unit}{}", if n == 1 { "" } else { "s" });
}

/// `before`, the span, then `after`: one allocation for the whole phrase (a room view writes a
/// few dozen of them).
fn phrase(before: &str, millis: Millis, after: &str) -> String {
    let mut out = String::with_capacity(32);
    out.push_str(before);
    push_span(&mut out, millis);
    out.push_str(after);
    out
}

/// "3 hours ago" or "in 3 hours".
pub fn relative(at: impl Int, now: impl Int) -> String {
    let (at, now) = (at.int(), now.int());
    if at <= now {
        phrase("", now - at, " ago")
    } else {
        phrase("in ", at - now, "")
    }
}

/// A due date in words: "due in 2 days" or "overdue by 3 hours".
pub fn due(at: Millis, now: Millis) -> String {
    if at < now {
        phrase("overdue by ", now - at, "")
    } else {
        phrase("due in ", at - now, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Millis = 60_000;

    fn zone(name: &str) -> Zone {
        Zone::parse(name).unwrap()
    }

    #[test]
    fn times_are_written_as_chrono_formats_them_in_every_zone() {
        // Every zone, at instants spread over several years (each step moves the weekday, the
        // day, the month, the hour and the minute), against chrono's own formatting.
        let step = 37 * 24 * 60 * MIN + 7 * 60 * MIN + 13 * MIN;
        let first = Zone::UTC.parse_input("2024-01-01T00:00").unwrap().unwrap();
        for zone in Zone::all() {
            for at in (0..40).map(|i| first + i * step) {
                let local = zone.local(at).unwrap();
                assert_eq!(
                    zone.when(at),
                    local.format("%a %-d %b, %H:%M %Z").to_string()
                );
                assert_eq!(
                    zone.when_dated(at),
                    local.format("%a %-d %b %Y, %H:%M %Z").to_string()
                );
                assert_eq!(zone.clock(at), local.format("%H:%M %a").to_string());
            }
        }
    }

    #[test]
    fn a_time_typed_in_chicago_is_the_same_instant_shown_in_berlin() {
        let typed = zone("America/Chicago")
            .parse_input("2026-12-01T02:51")
            .unwrap()
            .unwrap();
        assert_eq!(Zone::UTC.when(typed), "Tue 1 Dec, 08:51 UTC");
        assert_eq!(zone("Europe/Berlin").when(typed), "Tue 1 Dec, 09:51 CET");
        assert_eq!(zone("America/Chicago").to_input(typed), "2026-12-01T02:51");
        assert_eq!(zone("Europe/Berlin").to_input(typed), "2026-12-01T09:51");
        assert_eq!(
            zone("Europe/Berlin").when_dated(typed),
            "Tue 1 Dec 2026, 09:51 CET"
        );
    }

    #[test]
    fn the_abbreviation_follows_daylight_saving() {
        let berlin = zone("Europe/Berlin");
        let summer = Zone::UTC.parse_input("2026-07-01T12:00").unwrap().unwrap();
        assert_eq!(berlin.when(summer), "Wed 1 Jul, 14:00 CEST");
        // Europe leaves summer time at 01:00 UTC on 25 October 2026.
        let before = Zone::UTC.parse_input("2026-10-25T00:59").unwrap().unwrap();
        let after = before + 2 * MIN;
        assert_eq!(berlin.when(before), "Sun 25 Oct, 02:59 CEST");
        assert_eq!(berlin.when(after), "Sun 25 Oct, 02:01 CET");
    }

    #[test]
    fn wall_clock_times_across_a_change_are_read_as_people_mean_them() {
        let berlin = zone("Europe/Berlin");
        // 02:30 happens twice on 25 October: the first (summer time) is meant.
        let twice = berlin.parse_input("2026-10-25T02:30").unwrap().unwrap();
        assert_eq!(Zone::UTC.when(twice), "Sun 25 Oct, 00:30 UTC");
        // 02:30 never happens on 29 March: refused, saying why.
        let skipped = berlin.parse_input("2026-03-29T02:30").unwrap_err();
        assert!(
            skipped.contains("does not exist in Europe/Berlin"),
            "{skipped}"
        );
        // The US changes on other dates: 8 March 2026 in Chicago.
        let chicago = zone("America/Chicago");
        let morning = chicago.parse_input("2026-03-08T09:00").unwrap().unwrap();
        assert_eq!(Zone::UTC.when(morning), "Sun 8 Mar, 14:00 UTC");
        assert_eq!(chicago.when(morning), "Sun 8 Mar, 09:00 CDT");
    }

    #[test]
    fn a_zone_far_from_utc_changes_the_date() {
        let at = Zone::UTC.parse_input("2026-12-01T20:15").unwrap().unwrap();
        assert_eq!(zone("Pacific/Kiritimati").when(at), "Wed 2 Dec, 10:15 +14");
        assert_eq!(zone("Asia/Kolkata").when(at), "Wed 2 Dec, 01:45 IST");
        assert_eq!(zone("Pacific/Kiritimati").clock(at), "10:15 Wed");
    }

    #[test]
    fn working_hours_are_weekdays_eight_to_six_local() {
        let chicago = zone("America/Chicago");
        let at = |raw| chicago.parse_input(raw).unwrap().unwrap();
        assert!(chicago.is_working_hours(at("2026-12-01T08:00")));
        assert!(chicago.is_working_hours(at("2026-12-01T17:59")));
        assert!(!chicago.is_working_hours(at("2026-12-01T18:00")));
        assert!(!chicago.is_working_hours(at("2026-12-01T07:59")));
        assert!(
            !chicago.is_working_hours(at("2026-12-05T10:00")),
            "a Saturday"
        );
    }

    #[test]
    fn unknown_zones_and_inputs_are_refused() {
        assert_eq!(Zone::parse("Mars/Olympus"), None);
        assert_eq!(Zone::or(Some("Mars/Olympus"), Zone::UTC), Zone::UTC);
        assert_eq!(
            Zone::or(None, zone("Europe/Berlin")).name(),
            "Europe/Berlin"
        );
        assert_eq!(Zone::UTC.parse_input("  ").unwrap(), None);
        assert!(Zone::UTC.parse_input("tomorrow").is_err());
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
