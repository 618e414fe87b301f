//! Approvals: a PM's position on one exact revision of a draft or a leadership update — aligned,
//! or objecting with a reason — one model for both. A position on an older revision than the
//! current one is stale. A PM away from the room is represented by their stand-in (only while
//! away); an escalation ruling aligns an objector on the exact revision it settled. `refusal`
//! owns the blockers both gates share and the one way a refused gate is shown; `absence` the
//! away periods.

pub mod absence;
pub mod away;
pub mod link;
pub mod nudge;
pub mod panel;
pub mod position;
pub mod refusal;

use sqlx::{AnyConnection, Row};

use crate::clock::Millis;
use crate::members::model::Member;
use crate::members::model::MemberKind;
use crate::rooms::change::RoomTx;
use crate::text_enum::text_enum;
use crate::web::time::Int;

text_enum! {
    /// What is being approved.
    pub enum SubjectKind {
        Draft = "draft" => "draft",
        Update = "update" => "leadership update",
    }
}

text_enum! {
    /// What a PM said about a revision.
    pub enum Stance {
        Aligned = "aligned" => "aligned",
        Objected = "objected" => "objected",
    }
}

text_enum! {
    /// Who acted on the PM's behalf.
    pub enum Via {
        Own = "own" => "themselves",
        StandIn = "stand_in" => "their stand-in",
        Ruling = "ruling" => "an escalation ruling",
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approval {
    pub user_id: i64,
    pub revision: i64,
    pub approved_at: Millis,
    pub stance: Stance,
    pub reason: String,
    pub via: Via,
    /// Who acted when it was not the PM (the stand-in, or who ruled), with their name.
    pub acted_by: Option<(i64, String)>,
}

impl Approval {
    /// The PM's own alignment (tests and the demo).
    pub fn own(user_id: i64, revision: i64) -> Approval {
        Approval {
            user_id,
            revision,
            approved_at: 0,
            stance: Stance::Aligned,
            reason: String::new(),
            via: Via::Own,
            acted_by: None,
        }
    }
}

/// Where one PM stands on the current revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Alignment {
    /// Aligned on the current revision.
    Current,
    /// Aligned on the current revision by their stand-in, while they are away until `until`.
    ByStandIn { stand_in: String, until: Millis },
    /// Aligned on the current revision by an escalation ruling (they had objected).
    ByRuling { ruled_by: String },
    /// Objects to the current revision.
    Objects { reason: String },
    /// Aligned on an older revision; an edit made it stale.
    Stale { revision: i64 },
    /// Objected to an older revision; the new one asks them again.
    StaleObjection { revision: i64 },
    /// Not aligned on any revision.
    Missing,
}

impl Alignment {
    /// Whether this PM counts as aligned on the current revision.
    pub fn is_current(&self) -> bool {
        matches!(
            self,
            Alignment::Current | Alignment::ByStandIn { .. } | Alignment::ByRuling { .. }
        )
    }

    /// Whether the PM still has to say something (neither aligned nor objecting now).
    pub fn is_waiting(&self) -> bool {
        matches!(
            self,
            Alignment::Missing | Alignment::Stale { .. } | Alignment::StaleObjection { .. }
        )
    }

    /// Words for the page ("aligned on the current revision", …), times in `zone`.
    pub fn words(&self, zone: crate::web::time::Zone) -> String {
        match self {
            Alignment::Current => "Aligned on the current revision".to_owned(),
            Alignment::ByStandIn { stand_in, until } => format!(
                "Aligned by {stand_in} for them (away until {})",
                zone.when(*until)
            ),
            Alignment::ByRuling { ruled_by } => {
                format!("Settled by {ruled_by}: aligned on this revision by ruling")
            }
            Alignment::Objects { reason } => format!("Objects: {reason}"),
            Alignment::Stale { revision } => format!("Aligned on revision {revision} — stale"),
            Alignment::StaleObjection { revision } => {
                format!("Objected to revision {revision}; asked again on this one")
            }
            Alignment::Missing => "Not yet aligned".to_owned(),
        }
    }

    /// A short name for the state — the page's CSS class (always shown with its words) and the
    /// API's `state`: aligned (by themselves, a stand-in or a ruling), objects, stale, missing.
    pub fn class(&self) -> &'static str {
        match self {
            Alignment::Current | Alignment::ByStandIn { .. } | Alignment::ByRuling { .. } => {
                "aligned"
            }
            Alignment::Objects { .. } => "objects",
            Alignment::Stale { .. } | Alignment::StaleObjection { .. } => "stale",
            Alignment::Missing => "missing",
        }
    }
}

/// Each PM of the room with where they stand on `current`. A stand-in's position counts only
/// while the PM is away with that stand-in, and only when the stand-in speaks for no other absent
/// PM of the room (one voice may not stand for two).
pub fn alignment(
    members: &[Member],
    approvals: &[Approval],
    current: i64,
    away: &[absence::Absence],
) -> Vec<(Member, Alignment)> {
    members
        .iter()
        .filter(|m| m.kind == MemberKind::Pm)
        .map(|pm| {
            let state = match approvals.iter().find(|a| a.user_id == pm.user_id) {
                None => Alignment::Missing,
                Some(a) if a.via == Via::StandIn && !absence::stands_in(away, pm.user_id, a) => {
                    Alignment::Missing
                }
                Some(a) if a.revision != current => match a.stance {
                    Stance::Aligned => Alignment::Stale {
                        revision: a.revision,
                    },
                    Stance::Objected => Alignment::StaleObjection {
                        revision: a.revision,
                    },
                },
                Some(a) => match (a.stance, a.via, &a.acted_by) {
                    (Stance::Objected, ..) => Alignment::Objects {
                        reason: a.reason.clone(),
                    },
                    (_, Via::StandIn, Some((_, name))) => Alignment::ByStandIn {
                        stand_in: name.clone(),
                        until: absence::until(away, pm.user_id).unwrap_or_default(),
                    },
                    (_, Via::Ruling, Some((_, name))) => Alignment::ByRuling {
                        ruled_by: name.clone(),
                    },
                    _ => Alignment::Current,
                },
            };
            (pm.clone(), state)
        })
        .collect()
}

/// Where every PM of the room stands on revision `current` of a draft or update, now, and who
/// is away (read in the same transaction as the positions).
pub async fn standing(
    conn: &mut AnyConnection,
    kind: SubjectKind,
    subject_id: i64,
    (room_id, members): (i64, &[Member]),
    current: i64,
    now: Millis,
) -> sqlx::Result<(Vec<(Member, Alignment)>, Vec<absence::Absence>)> {
    let approvals = list(conn, kind, subject_id).await?;
    let away = absence::active(conn, room_id, now).await?;
    Ok((alignment(members, &approvals, current, &away), away))
}

/// Whether `user_id` is aligned on the current revision.
pub fn is_aligned_on_current(alignment: &[(Member, Alignment)], user_id: impl Int) -> bool {
    let user_id = user_id.int();
    alignment
        .iter()
        .any(|(pm, a)| pm.user_id == user_id && a.is_current())
}

/// Whether `user_id` took a position on any revision (and so can withdraw it).
pub fn has_aligned(alignment: &[(Member, Alignment)], user_id: impl Int) -> bool {
    let user_id = user_id.int();
    alignment
        .iter()
        .any(|(pm, a)| pm.user_id == user_id && *a != Alignment::Missing)
}

/// Whether `user_id` objects to the current revision.
pub fn objects(alignment: &[(Member, Alignment)], user_id: impl Int) -> bool {
    let user_id = user_id.int();
    alignment
        .iter()
        .any(|(pm, a)| pm.user_id == user_id && matches!(a, Alignment::Objects { .. }))
}

pub async fn list(
    conn: &mut AnyConnection,
    kind: SubjectKind,
    subject_id: i64,
) -> sqlx::Result<Vec<Approval>> {
    let rows = sqlx::query(
        "SELECT a.user_id, a.revision, a.approved_at, a.stance, a.reason, a.via, a.acted_by, u.name \
         FROM approvals a LEFT JOIN users u ON u.id = a.acted_by \
         WHERE a.subject_kind = $1 AND a.subject_id = $2",
    )
    .bind(kind.as_str())
    .bind(subject_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            let (stance, via): (String, String) = (row.try_get(3)?, row.try_get(5)?);
            let acted_by: Option<i64> = row.try_get(6)?;
            let name: Option<String> = row.try_get(7)?;
            Ok(Approval {
                user_id: row.try_get(0)?,
                revision: row.try_get(1)?,
                approved_at: row.try_get(2)?,
                stance: Stance::parse(&stance).unwrap_or(Stance::Aligned),
                reason: row.try_get(4)?,
                via: Via::parse(&via).unwrap_or(Via::Own),
                acted_by: acted_by.map(|id| (id, name.unwrap_or_default())),
            })
        })
        .collect()
}

/// A position to record on one revision: the PM's, their stand-in's for them, or a ruling's.
pub struct Position<'a> {
    pub kind: SubjectKind,
    pub subject_id: i64,
    /// The PM whose position it is.
    pub user_id: i64,
    pub revision: i64,
    pub stance: Stance,
    pub reason: &'a str,
    pub via: Via,
    /// Who acted (the stand-in, or who ruled); `None` for the PM themselves.
    pub acted_by: Option<i64>,
}

/// Records a position, replacing the PM's earlier one on this draft or update.
pub async fn record(tx: &mut RoomTx, position: &Position<'_>, now: Millis) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO approvals (subject_kind, subject_id, user_id, revision, approved_at, stance, reason, via, acted_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (subject_kind, subject_id, user_id) DO UPDATE SET revision = excluded.revision, \
         approved_at = excluded.approved_at, stance = excluded.stance, reason = excluded.reason, \
         via = excluded.via, acted_by = excluded.acted_by",
    )
    .bind(position.kind.as_str())
    .bind(position.subject_id)
    .bind(position.user_id)
    .bind(position.revision)
    .bind(now)
    .bind(position.stance.as_str())
    .bind(position.reason)
    .bind(position.via.as_str())
    .bind(position.acted_by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records `user_id`'s own alignment on `revision`, replacing any earlier position.
pub async fn approve(
    tx: &mut RoomTx,
    kind: SubjectKind,
    subject_id: i64,
    user_id: i64,
    revision: i64,
    now: Millis,
) -> sqlx::Result<()> {
    let position = Position {
        kind,
        subject_id,
        user_id,
        revision,
        stance: Stance::Aligned,
        reason: "",
        via: Via::Own,
        acted_by: None,
    };
    record(tx, &position, now).await
}

/// Withdraws `user_id`'s alignment; `false` when there was none.
pub async fn withdraw(
    tx: &mut RoomTx,
    kind: SubjectKind,
    subject_id: i64,
    user_id: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "DELETE FROM approvals WHERE subject_kind = $1 AND subject_id = $2 AND user_id = $3",
    )
    .bind(kind.as_str())
    .bind(subject_id)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Why approving `revision` is refused when `current` is the current revision.
pub fn approval_refusal(revision: i64, current: i64) -> Option<String> {
    (revision != current).then(|| {
        format!("Revision {revision} is no longer current: the current revision is {current}. Read it, then align on it.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(user_id: i64, kind: MemberKind) -> Member {
        Member {
            user_id,
            name: format!("User {user_id}"),
            title: String::new(),
            kind,
        }
    }

    fn approval(user_id: i64, revision: i64) -> Approval {
        Approval::own(user_id, revision)
    }

    #[test]
    fn each_pm_is_current_stale_or_missing_and_partners_do_not_count() {
        let members = [
            member(1, MemberKind::Pm),
            member(2, MemberKind::Pm),
            member(3, MemberKind::Pm),
            member(4, MemberKind::Partner),
        ];
        let approvals = [approval(1, 4), approval(2, 3), approval(4, 4)];
        let states: Vec<(i64, Alignment)> = alignment(&members, &approvals, 4, &[])
            .into_iter()
            .map(|(m, a)| (m.user_id, a))
            .collect();
        assert_eq!(
            states,
            [
                (1, Alignment::Current),
                (2, Alignment::Stale { revision: 3 }),
                (3, Alignment::Missing)
            ]
        );
    }

    #[test]
    fn a_pm_can_tell_whether_they_are_aligned() {
        let rows = [
            (member(1, MemberKind::Pm), Alignment::Current),
            (member(2, MemberKind::Pm), Alignment::Stale { revision: 1 }),
            (member(3, MemberKind::Pm), Alignment::Missing),
        ];
        assert!(is_aligned_on_current(&rows, 1) && has_aligned(&rows, 1));
        assert!(!is_aligned_on_current(&rows, 2) && has_aligned(&rows, 2));
        assert!(!is_aligned_on_current(&rows, 3) && !has_aligned(&rows, 3));
    }

    #[test]
    fn approving_anything_but_the_current_revision_is_refused_naming_the_current_one() {
        assert!(approval_refusal(4, 4).is_none());
        assert_eq!(
            approval_refusal(3, 4).unwrap(),
            "Revision 3 is no longer current: the current revision is 4. Read it, then align on it."
        );
    }
}
