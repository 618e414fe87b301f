//! A PM away from a room, with the member who aligns or objects for them meanwhile. Away ends by
//! itself at its end time, or when the PM returns. One person never stands in for two absent PMs
//! of a room: the rule refuses it when someone goes away, and the gate ignores a stand-in's
//! position that would make them the only voice for two.

use sqlx::{AnyConnection, Row};

use super::{Approval, Via};
use crate::clock::Millis;
use crate::members::model::{Member, MemberKind};
use crate::rooms::change::RoomTx;

/// A PM away now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Absence {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub stand_in_user_id: i64,
    pub stand_in: String,
    pub until: Millis,
}

/// Whether `approval` (a stand-in's, for `pm`) speaks for `pm` now.
pub fn stands_in(away: &[Absence], pm: i64, approval: &Approval) -> bool {
    let Some((acted_by, _)) = &approval.acted_by else {
        return false;
    };
    approval.via == Via::StandIn
        && away
            .iter()
            .any(|a| a.user_id == pm && a.stand_in_user_id == *acted_by)
        && away
            .iter()
            .filter(|a| a.stand_in_user_id == *acted_by)
            .count()
            == 1
}

/// Until when `pm` is away, if they are.
pub fn until(away: &[Absence], pm: i64) -> Option<Millis> {
    away.iter().find(|a| a.user_id == pm).map(|a| a.until)
}

/// The absent PM `user_id` stands in for now, if any.
pub fn standing_in_for(away: &[Absence], user_id: i64) -> Option<&Absence> {
    away.iter().find(|a| a.stand_in_user_id == user_id)
}

/// Why `pm` cannot be away until `until` with `stand_in`, given the room's members and who is
/// away now; `None` when they can.
pub fn away_refusal(
    pm: &Member,
    stand_in: Option<&Member>,
    away: &[Absence],
    until: Millis,
    now: Millis,
) -> Option<String> {
    if pm.kind != MemberKind::Pm {
        return Some("Only a PM of the room needs a stand-in: nobody else aligns.".into());
    }
    if until <= now {
        return Some("Choose when you are back: a time in the future.".into());
    }
    let Some(stand_in) = stand_in else {
        return Some("Choose a stand-in: another PM or a leadership member of this room.".into());
    };
    if stand_in.user_id == pm.user_id {
        return Some("Your stand-in is someone else.".into());
    }
    if stand_in.kind == MemberKind::Partner {
        return Some(format!(
            "{} is a partner; a stand-in is another PM or a leadership member of the room.",
            stand_in.name
        ));
    }
    if away.iter().any(|a| a.user_id == stand_in.user_id) {
        return Some(format!("{} is away too.", stand_in.name));
    }
    if let Some(other) = away
        .iter()
        .find(|a| a.stand_in_user_id == stand_in.user_id && a.user_id != pm.user_id)
    {
        return Some(format!(
            "{} already stands in for {}: one person may not be the only voice for two absent PMs.",
            stand_in.name, other.name
        ));
    }
    if let Some(covered) = away.iter().find(|a| a.stand_in_user_id == pm.user_id) {
        return Some(format!(
            "You stand in for {} until they are back; they need another stand-in first.",
            covered.name
        ));
    }
    None
}

/// Who is away in the room now (an absence past its end time has ended by itself).
pub async fn active(
    conn: &mut AnyConnection,
    room_id: i64,
    now: Millis,
) -> sqlx::Result<Vec<Absence>> {
    let rows = sqlx::query(
        "SELECT a.id, a.user_id, u.name, a.stand_in_user_id, s.name, a.away_until FROM absences a \
         JOIN users u ON u.id = a.user_id JOIN users s ON s.id = a.stand_in_user_id \
         WHERE a.room_id = $1 AND a.ended_at IS NULL AND a.away_until > $2 ORDER BY u.name, a.id",
    )
    .bind(room_id)
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(Absence {
                id: row.try_get(0)?,
                user_id: row.try_get(1)?,
                name: row.try_get(2)?,
                stand_in_user_id: row.try_get(3)?,
                stand_in: row.try_get(4)?,
                until: row.try_get(5)?,
            })
        })
        .collect()
}

/// Every absence of the room not ended by hand (whether it ran out is decided when shown).
pub async fn unended(conn: &mut AnyConnection, room_id: i64) -> sqlx::Result<Vec<Absence>> {
    active(conn, room_id, Millis::MIN).await
}

/// Marks `user_id` away from the room (ending any earlier absence of theirs there).
pub async fn set(
    tx: &mut RoomTx,
    room_id: i64,
    user_id: i64,
    stand_in: i64,
    until: Millis,
    now: Millis,
) -> sqlx::Result<()> {
    end(tx, room_id, user_id, now).await?;
    sqlx::query(
        "INSERT INTO absences (room_id, user_id, stand_in_user_id, away_until, set_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(room_id)
    .bind(user_id)
    .bind(stand_in)
    .bind(until)
    .bind(now)
    .execute(tx.room(room_id))
    .await?;
    Ok(())
}

/// Ends `user_id`'s absence from the room (they are back); `false` when they were not away.
pub async fn end(tx: &mut RoomTx, room_id: i64, user_id: i64, now: Millis) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE absences SET ended_at = $1 WHERE room_id = $2 AND user_id = $3 AND ended_at IS NULL \
         AND away_until > $1",
    )
    .bind(now)
    .bind(room_id)
    .bind(user_id)
    .execute(tx.room(room_id))
    .await?;
    Ok(done.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approvals::{Alignment, Stance, alignment};

    fn member(user_id: i64, name: &str, kind: MemberKind) -> Member {
        Member {
            user_id,
            name: name.into(),
            title: String::new(),
            kind,
        }
    }

    fn away(user_id: i64, name: &str, stand_in: i64, until: Millis) -> Absence {
        Absence {
            id: user_id,
            user_id,
            name: name.into(),
            stand_in_user_id: stand_in,
            stand_in: format!("User {stand_in}"),
            until,
        }
    }

    fn for_them(user_id: i64, revision: i64, stand_in: i64) -> Approval {
        Approval {
            via: Via::StandIn,
            acted_by: Some((stand_in, "Sam".into())),
            ..Approval::own(user_id, revision)
        }
    }

    #[test]
    fn a_stand_ins_alignment_counts_only_while_the_pm_is_away() {
        let members = [
            member(1, "Dana", MemberKind::Pm),
            member(2, "Sam", MemberKind::Pm),
        ];
        let approvals = [for_them(1, 3, 2), Approval::own(2, 3)];
        let while_away = alignment(&members, &approvals, 3, &[away(1, "Dana", 2, 500)]);
        assert_eq!(
            while_away[0].1,
            Alignment::ByStandIn {
                stand_in: "Sam".into(),
                until: 500
            }
        );
        assert!(while_away[0].1.is_current());
        let back = alignment(&members, &approvals, 3, &[]);
        assert_eq!(
            back[0].1,
            Alignment::Missing,
            "Dana is back: she aligns herself"
        );
        let other_stand_in = alignment(&members, &approvals, 3, &[away(1, "Dana", 9, 500)]);
        assert_eq!(other_stand_in[0].1, Alignment::Missing);
    }

    #[test]
    fn one_stand_in_is_never_the_only_voice_for_two_absent_pms() {
        let members = [
            member(1, "Dana", MemberKind::Pm),
            member(3, "Kim", MemberKind::Pm),
            member(2, "Sam", MemberKind::Pm),
        ];
        let both_away = [away(1, "Dana", 2, 500), away(3, "Kim", 2, 500)];
        let approvals = [for_them(1, 1, 2), for_them(3, 1, 2), Approval::own(2, 1)];
        let states = alignment(&members, &approvals, 1, &both_away);
        assert_eq!(states[0].1, Alignment::Missing);
        assert_eq!(states[1].1, Alignment::Missing);
        let sam = member(2, "Sam", MemberKind::Pm);
        let kim = member(3, "Kim", MemberKind::Pm);
        let refused = away_refusal(&kim, Some(&sam), &both_away[..1], 500, 0).unwrap();
        assert!(refused.contains("already stands in for Dana"), "{refused}");
    }

    #[test]
    fn going_away_needs_a_future_end_and_a_pm_or_leadership_stand_in_who_is_here() {
        let dana = member(1, "Dana", MemberKind::Pm);
        let sam = member(2, "Sam", MemberKind::Pm);
        let elena = member(5, "Elena", MemberKind::Leadership);
        let ravi = member(4, "Ravi", MemberKind::Partner);
        assert_eq!(away_refusal(&dana, Some(&sam), &[], 100, 0), None);
        assert_eq!(away_refusal(&dana, Some(&elena), &[], 100, 0), None);
        assert!(away_refusal(&dana, Some(&ravi), &[], 100, 0).is_some());
        assert!(away_refusal(&dana, Some(&sam), &[], 0, 0).is_some());
        assert!(away_refusal(&dana, Some(&dana), &[], 100, 0).is_some());
        assert!(away_refusal(&dana, None, &[], 100, 0).is_some());
        assert!(away_refusal(&dana, Some(&sam), &[away(2, "Sam", 5, 100)], 100, 0).is_some());
        let covering = [away(2, "Sam", 1, 100)];
        assert!(away_refusal(&dana, Some(&elena), &covering, 100, 0).is_some());
        assert!(away_refusal(&ravi, Some(&sam), &[], 100, 0).is_some());
    }

    #[test]
    fn an_objection_stands_on_its_revision_and_goes_stale_with_a_new_one() {
        let members = [member(1, "Dana", MemberKind::Pm)];
        let objection = Approval {
            stance: Stance::Objected,
            reason: "Too early to promise Friday".into(),
            ..Approval::own(1, 3)
        };
        let now = alignment(&members, std::slice::from_ref(&objection), 3, &[]);
        assert_eq!(
            now[0].1,
            Alignment::Objects {
                reason: "Too early to promise Friday".into()
            }
        );
        assert!(!now[0].1.is_current() && !now[0].1.is_waiting());
        let later = alignment(&members, &[objection], 4, &[]);
        assert_eq!(later[0].1, Alignment::StaleObjection { revision: 3 });
        assert!(later[0].1.is_waiting());
    }

    #[test]
    fn a_ruling_aligns_the_objector_on_that_revision_only() {
        let members = [member(1, "Dana", MemberKind::Pm)];
        let ruled = Approval {
            via: Via::Ruling,
            acted_by: Some((5, "Elena Vasquez".into())),
            ..Approval::own(1, 3)
        };
        let now = alignment(&members, std::slice::from_ref(&ruled), 3, &[]);
        assert_eq!(
            now[0].1,
            Alignment::ByRuling {
                ruled_by: "Elena Vasquez".into()
            }
        );
        assert!(now[0].1.is_current());
        let later = alignment(&members, &[ruled], 4, &[]);
        assert_eq!(later[0].1, Alignment::Stale { revision: 3 });
    }
}
