//! Which room a message belongs to, safest evidence first: the Message-ID it answers
//! (`In-Reply-To`), then each one it references (latest first), then the room's reply address.
//! Never the subject: anyone can write any subject. And a room takes the message only from the
//! customer's own people (a contact, or an address at the customer's domain).

use super::model::MatchedBy;

/// A room found for a message, how, and the thread it continues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub room_id: i64,
    pub by: MatchedBy,
}

/// The Message-IDs to look up, in the order they count.
pub fn evidence(in_reply_to: &[String], references: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = in_reply_to.to_vec();
    for id in references.iter().rev() {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    ids
}

/// The room, given which of our sent messages were found (`sent`: Message-ID → room) and which
/// room the reply address names.
pub fn choose(
    in_reply_to: &[String],
    references: &[String],
    sent: &[(String, i64)],
    by_token: Option<i64>,
) -> Option<Found> {
    let room_of = |id: &String| sent.iter().find(|(m, _)| m == id).map(|(_, room)| *room);
    if let Some(room_id) = in_reply_to.iter().find_map(room_of) {
        return Some(Found {
            room_id,
            by: MatchedBy::InReplyTo,
        });
    }
    if let Some(room_id) = references.iter().rev().find_map(room_of) {
        return Some(Found {
            room_id,
            by: MatchedBy::References,
        });
    }
    by_token.map(|room_id| Found {
        room_id,
        by: MatchedBy::ReplyAddress,
    })
}

/// Whether `from` may speak into a room of this customer: one of its contacts, or an address at
/// its email domain (when it has one).
pub fn sender_belongs(from: &str, contacts: &[String], customer_domain: &str) -> bool {
    let from = from.trim().to_lowercase();
    if from.is_empty() {
        return false;
    }
    let domain = from.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    contacts.iter().any(|c| c.eq_ignore_ascii_case(&from))
        || (!customer_domain.is_empty() && domain.eq_ignore_ascii_case(customer_domain))
}

/// The thread a message continues: the first message it references, or itself.
pub fn thread_root(in_reply_to: &[String], references: &[String], own_id: &str) -> String {
    references
        .first()
        .or(in_reply_to.first())
        .map_or_else(|| own_id.to_owned(), Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn in_reply_to_wins_over_references_and_the_address() {
        let sent = vec![("<a>".to_string(), 1), ("<b>".to_string(), 2)];
        let found = choose(&ids(&["<b>"]), &ids(&["<a>"]), &sent, Some(3)).unwrap();
        assert_eq!((found.room_id, found.by), (2, MatchedBy::InReplyTo));
        let found = choose(&ids(&["<x>"]), &ids(&["<a>", "<zzz>"]), &sent, Some(3)).unwrap();
        assert_eq!((found.room_id, found.by), (1, MatchedBy::References));
        let found = choose(&[], &[], &sent, Some(3)).unwrap();
        assert_eq!((found.room_id, found.by), (3, MatchedBy::ReplyAddress));
        assert_eq!(choose(&ids(&["<x>"]), &[], &sent, None), None);
    }

    #[test]
    fn the_latest_reference_counts_first() {
        let sent = vec![("<old>".to_string(), 1), ("<new>".to_string(), 2)];
        let found = choose(&[], &ids(&["<old>", "<new>"]), &sent, None).unwrap();
        assert_eq!(found.room_id, 2);
        assert_eq!(
            evidence(&ids(&["<r>"]), &ids(&["<old>", "<r>", "<new>"])),
            ids(&["<r>", "<new>", "<old>"])
        );
    }

    #[test]
    fn only_the_customers_people_speak_into_its_rooms() {
        let contacts = ids(&["jordan@northwind.example"]);
        assert!(sender_belongs("Jordan@Northwind.example", &contacts, ""));
        assert!(sender_belongs(
            "kim@northwind.example",
            &contacts,
            "northwind.example"
        ));
        assert!(!sender_belongs("kim@northwind.example", &contacts, ""));
        assert!(!sender_belongs(
            "mallory@evil.example",
            &contacts,
            "northwind.example"
        ));
        assert!(!sender_belongs(
            "x@sub.northwind.example",
            &contacts,
            "northwind.example"
        ));
        assert!(!sender_belongs("", &contacts, "northwind.example"));
    }

    #[test]
    fn a_thread_starts_at_its_first_reference() {
        assert_eq!(
            thread_root(&ids(&["<b>"]), &ids(&["<a>", "<b>"]), "<c>"),
            "<a>"
        );
        assert_eq!(thread_root(&ids(&["<b>"]), &[], "<c>"), "<b>");
        assert_eq!(thread_root(&[], &[], "<c>"), "<c>");
    }
}
