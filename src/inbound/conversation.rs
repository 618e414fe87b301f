//! A room's conversation with the customer: what we sent and what came back, grouped into one
//! conversation per thread, each in the order it happened (the room page's *Customer email*).

use super::model::Received;
use crate::clock::Millis;
use crate::outbox::model::Entry;

/// One message of a conversation: sent by us, or received from the customer.
#[derive(Clone, Debug)]
pub struct Said {
    pub sent: Option<Entry>,
    pub received: Option<Received>,
}

impl Said {
    pub fn at(&self) -> Millis {
        match (&self.sent, &self.received) {
            (Some(sent), _) => sent.sent_at.unwrap_or(sent.created_at),
            (_, Some(received)) => received.received_at,
            _ => 0,
        }
    }
}

/// One thread, oldest message first.
#[derive(Clone, Debug)]
pub struct Thread {
    pub messages: Vec<Said>,
}

impl Thread {
    pub fn subject(&self) -> &str {
        self.messages
            .first()
            .map(|m| match (&m.sent, &m.received) {
                (Some(sent), _) => sent.subject.as_str(),
                (_, Some(received)) => received.subject_or_none(),
                _ => "",
            })
            .unwrap_or_default()
    }

    fn latest(&self) -> Millis {
        self.messages.last().map_or(0, Said::at)
    }
}

/// Groups the room's sent emails (all in the thread that starts at `room_root`) and received
/// messages (each knows its thread) into threads, the most recently active first.
pub fn threads(sent: Vec<Entry>, received: Vec<Received>, room_root: &str) -> Vec<Thread> {
    let mut keyed: Vec<(String, Thread)> = Vec::new();
    let mut add = |root: String, said: Said| match keyed.iter_mut().find(|(r, _)| *r == root) {
        Some((_, thread)) => thread.messages.push(said),
        None => keyed.push((
            root,
            Thread {
                messages: vec![said],
            },
        )),
    };
    for entry in sent {
        let said = Said {
            sent: Some(entry),
            received: None,
        };
        add(room_root.to_owned(), said);
    }
    for message in received {
        let root = match message.thread_root.as_str() {
            "" => message.message_id.clone(),
            root => root.to_owned(),
        };
        let said = Said {
            sent: None,
            received: Some(message),
        };
        add(root, said);
    }
    let mut threads: Vec<Thread> = keyed.into_iter().map(|(_, t)| t).collect();
    for thread in &mut threads {
        thread.messages.sort_by_key(Said::at);
    }
    threads.sort_by_key(|t| std::cmp::Reverse(t.latest()));
    threads
}
