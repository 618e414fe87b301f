//! The groups of the room page's shared content that a change can leave alone, and the version
//! of each. Every change bumps the room's `version` (what live pages compare, what the content
//! cache is keyed by) and sets the version of each group it writes to that new version: all of
//! them unless the change names the one group it writes (`RoomChange::begin_writing_only`). A
//! cache miss then re-reads only the groups whose version moved since the entry it holds.
//!
//! Naming a group is a promise about which tables the change writes; `tests/api/parts.rs` renders
//! the room page after each narrowed write both ways (incrementally, and from an empty cache)
//! and compares them.

/// A group of the room page's parts a change can name as the only one it writes. The timeline
/// is in none: nearly every change adds an event, so it is read afresh at every version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Decision types and decisions.
    Decisions,
    /// The touches logged with the customer's contacts.
    Touches,
    /// Drafts, their revisions and alignment, the customer emails sent and received, and the
    /// room's reply address.
    Email,
}

impl Part {
    fn column(self) -> &'static str {
        match self {
            Part::Decisions => "decisions_version",
            Part::Touches => "touches_version",
            Part::Email => "email_version",
        }
    }
}

/// The column every other change sets (members, workstreams, questions, pauses, updates, …).
const REST: &str = "rest_version";

/// What one change writes: every group, or only one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writes {
    Everything,
    Only(Part),
}

impl Writes {
    /// The `SET` items that move the written groups to the room's new version (`version + 1` is
    /// the old version plus one in every item of one `UPDATE`, on both databases).
    pub fn set_clause(self) -> String {
        let columns: &[&str] = match self {
            Writes::Everything => &[
                Part::Decisions.column(),
                Part::Touches.column(),
                Part::Email.column(),
                REST,
            ],
            Writes::Only(part) => &[part.column()],
        };
        columns
            .iter()
            .map(|column| format!("{column} = version + 1"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The version of each group, as read with the room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct PartVersions {
    pub decisions_version: i64,
    pub touches_version: i64,
    pub email_version: i64,
    pub rest_version: i64,
}

/// Which groups to read again for content kept at `kept`, now that the room is at `now`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stale {
    pub decisions: bool,
    pub touches: bool,
    pub email: bool,
    pub rest: bool,
}

impl Stale {
    /// Nothing kept is reused (there is nothing kept).
    pub const EVERYTHING: Stale = Stale {
        decisions: true,
        touches: true,
        email: true,
        rest: true,
    };
}

impl PartVersions {
    pub fn stale_since(&self, kept: &PartVersions) -> Stale {
        Stale {
            decisions: self.decisions_version != kept.decisions_version,
            touches: self.touches_version != kept.touches_version,
            email: self.email_version != kept.email_version,
            rest: self.rest_version != kept.rest_version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_that_names_nothing_moves_every_group() {
        assert_eq!(
            Writes::Everything.set_clause(),
            "decisions_version = version + 1, touches_version = version + 1, \
             email_version = version + 1, rest_version = version + 1"
        );
    }

    #[test]
    fn a_narrowed_change_moves_only_its_group() {
        assert_eq!(
            Writes::Only(Part::Touches).set_clause(),
            "touches_version = version + 1"
        );
    }

    #[test]
    fn only_the_groups_whose_version_moved_are_read_again() {
        let kept = PartVersions {
            decisions_version: 3,
            touches_version: 5,
            email_version: 7,
            rest_version: 3,
        };
        let now = PartVersions {
            email_version: 9,
            ..kept
        };
        assert_eq!(
            now.stale_since(&kept),
            Stale {
                email: true,
                ..Stale::default()
            }
        );
        assert_eq!(kept.stale_since(&kept), Stale::default());
    }
}
