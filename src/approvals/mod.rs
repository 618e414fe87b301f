//! Approvals: a PM's "aligned" on one exact revision of a draft or a leadership update — one
//! model for both. An approval of an older revision than the current one is stale. `refusal`
//! owns the blockers both gates share and the one way a refused gate is shown.

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approval {
    pub user_id: i64,
    pub revision: i64,
    pub approved_at: Millis,
}

/// Where one PM stands on the current revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Alignment {
    /// Aligned on the current revision.
    Current,
    /// Aligned on an older revision; an edit made it stale.
    Stale { revision: i64 },
    /// Not aligned on any revision.
    Missing,
}

impl Alignment {
    pub fn is_current(&self) -> bool {
        *self == Alignment::Current
    }

    /// Words for the page ("aligned on the current revision", …).
    pub fn words(&self) -> String {
        match self {
            Alignment::Current => "Aligned on the current revision".to_owned(),
            Alignment::Stale { revision } => format!("Aligned on revision {revision} — stale"),
            Alignment::Missing => "Not yet aligned".to_owned(),
        }
    }

    /// A CSS-friendly name for the state (always shown with its words).
    pub fn class(&self) -> &'static str {
        match self {
            Alignment::Current => "aligned",
            Alignment::Stale { .. } => "stale",
            Alignment::Missing => "missing",
        }
    }
}

/// Each PM of the room with where they stand on `current`.
pub fn alignment(
    members: &[Member],
    approvals: &[Approval],
    current: i64,
) -> Vec<(Member, Alignment)> {
    members
        .iter()
        .filter(|m| m.kind == MemberKind::Pm)
        .map(|pm| {
            let state = match approvals.iter().find(|a| a.user_id == pm.user_id) {
                Some(a) if a.revision == current => Alignment::Current,
                Some(a) => Alignment::Stale {
                    revision: a.revision,
                },
                None => Alignment::Missing,
            };
            (pm.clone(), state)
        })
        .collect()
}

/// Whether `user_id` is aligned on the current revision.
pub fn is_aligned_on_current(alignment: &[(Member, Alignment)], user_id: impl Int) -> bool {
    let user_id = user_id.int();
    alignment
        .iter()
        .any(|(pm, a)| pm.user_id == user_id && a.is_current())
}

/// Whether `user_id` is aligned on any revision (and so can withdraw).
pub fn has_aligned(alignment: &[(Member, Alignment)], user_id: impl Int) -> bool {
    let user_id = user_id.int();
    alignment
        .iter()
        .any(|(pm, a)| pm.user_id == user_id && *a != Alignment::Missing)
}

pub async fn list(
    conn: &mut AnyConnection,
    kind: SubjectKind,
    subject_id: i64,
) -> sqlx::Result<Vec<Approval>> {
    let rows = sqlx::query(
        "SELECT user_id, revision, approved_at FROM approvals WHERE subject_kind = $1 AND subject_id = $2",
    )
    .bind(kind.as_str())
    .bind(subject_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(Approval {
                user_id: row.try_get(0)?,
                revision: row.try_get(1)?,
                approved_at: row.try_get(2)?,
            })
        })
        .collect()
}

/// Records `user_id`'s alignment on `revision`, replacing any earlier one.
pub async fn approve(
    tx: &mut RoomTx,
    kind: SubjectKind,
    subject_id: i64,
    user_id: i64,
    revision: i64,
    now: Millis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO approvals (subject_kind, subject_id, user_id, revision, approved_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (subject_kind, subject_id, user_id) DO UPDATE SET revision = excluded.revision, \
         approved_at = excluded.approved_at",
    )
    .bind(kind.as_str())
    .bind(subject_id)
    .bind(user_id)
    .bind(revision)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
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
        Approval {
            user_id,
            revision,
            approved_at: 0,
        }
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
        let states: Vec<(i64, Alignment)> = alignment(&members, &approvals, 4)
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
