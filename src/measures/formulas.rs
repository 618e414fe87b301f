//! The coordination measures as pure formulas over plain records — what the README defines, one
//! function each, so every number on `/insights` traces back to rows of the room.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::clock::Millis;
use crate::drafts::gate::BlockReason;

pub const HOUR: Millis = 3_600_000;
pub const DAY: Millis = 24 * HOUR;

/// The median of some durations (the mean of the middle two for an even count); `None` for none.
pub fn median(values: &[Millis]) -> Option<Millis> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

/// Time from escalation to the first customer email sent: `min(sent) − escalated_at`.
pub fn time_to_first_email(escalated_at: Millis, sent: &[Millis]) -> Option<Millis> {
    sent.iter().min().map(|first| (first - escalated_at).max(0))
}

/// Customer updates kept against promised: updates sent, and updates the cadence promised between
/// the first one and `until` (`1 + ⌊(until − first) / every⌋`).
pub fn cadence_kept(sent: &[Millis], every: Millis, until: Millis) -> Option<(usize, usize)> {
    let first = *sent.iter().min()?;
    let promised = match every > 0 {
        true => 1 + ((until - first).max(0) / every) as usize,
        false => 1,
    };
    Some((sent.len(), promised))
}

/// One sent customer email, as alignment saw it.
#[derive(Clone, Debug)]
pub struct Send {
    /// When its first revision was saved.
    pub first_revision_at: Millis,
    /// The revision that was sent.
    pub revision: i64,
    /// When each PM's alignment on the sent revision was recorded.
    pub alignments: Vec<Millis>,
}

/// Time to align one send: its first revision to the last PM's alignment on the sent revision.
pub fn time_to_align(send: &Send) -> Option<Millis> {
    send.alignments
        .iter()
        .max()
        .map(|last| (last - send.first_revision_at).max(0))
}

/// One decision, as the velocity measures need it. The names are shared: at 100k rooms a reading
/// holds hundreds of thousands of decisions over a handful of types and owners.
#[derive(Clone, Debug)]
pub struct DecisionRecord {
    pub room_id: i64,
    pub type_name: Arc<str>,
    pub owner: Arc<str>,
    pub proposed_at: Millis,
    pub decided_at: Option<Millis>,
    pub superseded: bool,
    pub contested: bool,
    pub on_escalation: bool,
}

/// Decision velocity: the median of `decided_at − proposed_at` over decided decisions, grouped by
/// `key` (the type, or the owner), with how many were decided.
pub fn velocity<'a>(
    decisions: &'a [DecisionRecord],
    key: impl Fn(&'a DecisionRecord) -> &'a str,
) -> Vec<(String, Millis, usize)> {
    let mut groups: HashMap<&str, Vec<Millis>> = HashMap::new();
    for d in decisions {
        if let Some(decided) = d.decided_at {
            groups
                .entry(key(d))
                .or_default()
                .push(decided - d.proposed_at);
        }
    }
    let mut out: Vec<(String, Millis, usize)> = groups
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_owned(), median(&v)?, v.len())))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// One outbound touch of a contact.
#[derive(Clone, Debug)]
pub struct TouchRecord {
    pub room_id: i64,
    pub contact_id: i64,
    pub by: i64,
    pub at: Millis,
    /// Email or chat: it speaks for the company in writing.
    pub written: bool,
    pub uncoordinated: bool,
}

/// Voices to each contact: the distinct people who sent or logged a written touch to it (the goal
/// is 1), per (room, contact).
pub fn voices(touches: &[TouchRecord]) -> HashMap<(i64, i64), usize> {
    let mut people: HashMap<(i64, i64), HashSet<i64>> = HashMap::new();
    for t in touches.iter().filter(|t| t.written) {
        people
            .entry((t.room_id, t.contact_id))
            .or_default()
            .insert(t.by);
    }
    people.into_iter().map(|(k, v)| (k, v.len())).collect()
}

/// Parallel touches: a touch of a contact by someone other than the one who touched it last,
/// less than 24 hours later (two members reaching one person in the same day).
pub fn parallel_touches(touches: &[TouchRecord]) -> usize {
    let mut by_contact: HashMap<i64, Vec<&TouchRecord>> = HashMap::new();
    for t in touches {
        by_contact.entry(t.contact_id).or_default().push(t);
    }
    by_contact
        .values_mut()
        .map(|list| {
            list.sort_by_key(|t| t.at);
            list.windows(2)
                .filter(|pair| pair[0].by != pair[1].by && pair[1].at - pair[0].at < DAY)
                .count()
        })
        .sum()
}

/// A question, asked and maybe answered.
#[derive(Clone, Debug)]
pub struct QuestionRecord {
    pub asked_at: Millis,
    pub answered_at: Option<Millis>,
    /// Asked after seeing similar questions (an explicit choice).
    pub asked_anyway: bool,
}

/// Median time to answer, over answered questions.
pub fn time_to_answer(questions: &[QuestionRecord]) -> Option<Millis> {
    let waits: Vec<Millis> = questions
        .iter()
        .filter_map(|q| q.answered_at.map(|a| a - q.asked_at))
        .collect();
    median(&waits)
}

/// Duplicates avoided: the times someone was shown similar questions instead of recording theirs
/// (once per person, room and wording) and did not then ask it anyway. Each check names the
/// question it was asked anyway as, if it was.
pub fn duplicates_avoided(checks: &[Option<i64>]) -> usize {
    checks.iter().filter(|asked| asked.is_none()).count()
}

/// Sends blocked by reason: for each kind, the refused sends it was among the reasons of (a send
/// refused for two reasons counts under both), the most frequent first. `refusals` are the stored
/// kinds of each refused send (`not_aligned,paused`); an unknown kind is left out.
pub fn blocked_by_reason(refusals: &[String]) -> Vec<(BlockReason, usize)> {
    let mut counts: HashMap<BlockReason, usize> = HashMap::new();
    for refusal in refusals {
        let kinds: HashSet<BlockReason> =
            refusal.split(',').filter_map(BlockReason::parse).collect();
        for kind in kinds {
            *counts.entry(kind).or_default() += 1;
        }
    }
    let mut out: Vec<(BlockReason, usize)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.as_str().cmp(b.0.as_str())));
    out
}

/// A pause as granted: when it started, and when it ended (by hand, or by its end time).
#[derive(Clone, Copy, Debug)]
pub struct PauseRecord {
    pub from: Millis,
    pub ended_at: Option<Millis>,
    pub until: Option<Millis>,
}

/// Time with outreach paused up to `now`: each pause from its start to the earliest of its end,
/// its end time and `now`.
pub fn paused_time(pauses: &[PauseRecord], now: Millis) -> Millis {
    pauses
        .iter()
        .map(|p| {
            let end = [p.ended_at, p.until, Some(now)]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(now);
            (end - p.from).max(0)
        })
        .sum()
}

/// "3.2 days", "5 hours", "40 minutes": a duration for a table cell.
pub fn words(duration: Millis) -> String {
    match duration {
        d if d >= 2 * DAY => format!("{:.1} days", d as f64 / DAY as f64),
        d if d >= 2 * HOUR => format!("{:.1} hours", d as f64 / HOUR as f64),
        d => format!("{} minutes", d / 60_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_none_is_none_and_of_two_their_mean() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5]), Some(5));
        assert_eq!(median(&[9, 1, 5]), Some(5));
        assert_eq!(median(&[1, 2, 3, 10]), Some(2));
    }

    #[test]
    fn no_email_sent_means_no_first_email_and_no_cadence() {
        assert_eq!(time_to_first_email(100, &[]), None);
        assert_eq!(cadence_kept(&[], DAY, 10 * DAY), None);
        assert_eq!(time_to_first_email(100, &[400, 250]), Some(150));
    }

    #[test]
    fn cadence_counts_the_updates_promised_since_the_first() {
        let sent = [0, DAY, 3 * DAY];
        assert_eq!(cadence_kept(&sent, DAY, 3 * DAY + HOUR), Some((3, 4)));
        assert_eq!(cadence_kept(&[0], DAY, HOUR), Some((1, 1)));
    }

    #[test]
    fn time_to_align_runs_to_the_last_alignment_on_the_sent_revision() {
        let send = Send {
            first_revision_at: 0,
            revision: 3,
            alignments: vec![5 * HOUR, 2 * HOUR],
        };
        assert_eq!(time_to_align(&send), Some(5 * HOUR));
        let unaligned = Send {
            alignments: vec![],
            ..send
        };
        assert_eq!(time_to_align(&unaligned), None);
    }

    fn decision(type_name: &str, days: Option<i64>) -> DecisionRecord {
        DecisionRecord {
            room_id: 1,
            type_name: type_name.into(),
            owner: "Lee".into(),
            proposed_at: 0,
            decided_at: days.map(|d| d * DAY),
            superseded: false,
            contested: false,
            on_escalation: false,
        }
    }

    #[test]
    fn velocity_is_the_median_per_type_over_decided_decisions_only() {
        let decisions = [
            decision("Commercial", Some(4)),
            decision("Commercial", Some(6)),
            decision("Commercial", None),
            decision("Timeline", Some(1)),
        ];
        let by_type = velocity(&decisions, |d| d.type_name.as_ref());
        assert_eq!(
            by_type,
            [
                ("Commercial".to_owned(), 5 * DAY, 2),
                ("Timeline".to_owned(), DAY, 1)
            ]
        );
        assert!(velocity(&[decision("Scope", None)], |d| d.owner.as_ref()).is_empty());
    }

    fn touch(contact: i64, by: i64, at: Millis, written: bool) -> TouchRecord {
        TouchRecord {
            room_id: 1,
            contact_id: contact,
            by,
            at,
            written,
            uncoordinated: false,
        }
    }

    #[test]
    fn voices_count_distinct_writers_per_contact_and_parallel_touches_pairs_within_a_day() {
        let touches = [
            touch(1, 10, 0, true),
            touch(1, 11, HOUR, true),
            touch(1, 11, 2 * HOUR, false),
            touch(1, 12, 3 * DAY, false),
            touch(2, 10, 0, true),
        ];
        let voices = voices(&touches);
        assert_eq!(voices[&(1, 1)], 2, "a call is not a written voice");
        assert_eq!(voices[&(1, 2)], 1);
        assert_eq!(parallel_touches(&touches), 1, "10 then 11 within the hour");
    }

    #[test]
    fn a_send_refused_for_two_reasons_counts_under_both_and_each_reason_once() {
        let refusals = [
            "not_aligned,paused".to_owned(),
            "not_aligned".to_owned(),
            "not_aligned,not_aligned".to_owned(),
            "something_new".to_owned(),
        ];
        assert_eq!(
            blocked_by_reason(&refusals),
            [(BlockReason::NotAligned, 3), (BlockReason::Paused, 1)]
        );
        assert!(blocked_by_reason(&[]).is_empty());
    }

    #[test]
    fn a_similar_question_asked_anyway_is_not_a_duplicate_avoided() {
        assert_eq!(duplicates_avoided(&[None, Some(7), None]), 2);
        assert_eq!(duplicates_avoided(&[]), 0);
    }

    #[test]
    fn paused_time_ends_at_the_earliest_of_resume_end_time_and_now() {
        let pauses = [
            PauseRecord {
                from: 0,
                ended_at: Some(2 * HOUR),
                until: None,
            },
            PauseRecord {
                from: 10 * HOUR,
                ended_at: None,
                until: Some(11 * HOUR),
            },
            PauseRecord {
                from: 20 * HOUR,
                ended_at: None,
                until: None,
            },
        ];
        assert_eq!(paused_time(&pauses, 21 * HOUR), 4 * HOUR);
    }

    #[test]
    fn time_to_answer_is_the_median_over_answered_questions() {
        let questions = [
            QuestionRecord {
                asked_at: 0,
                answered_at: Some(DAY),
                asked_anyway: false,
            },
            QuestionRecord {
                asked_at: 0,
                answered_at: None,
                asked_anyway: true,
            },
        ];
        assert_eq!(time_to_answer(&questions), Some(DAY));
        assert_eq!(words(3 * DAY + DAY / 5), "3.2 days");
        assert_eq!(words(40 * 60_000), "40 minutes");
    }
}
