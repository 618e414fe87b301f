//! The parts of a room page that its live check can send one by one, and the fingerprints by
//! which an open page names what each of its parts shows: when a room changes, only the parts
//! that now read differently travel, and the rest of the page (an open form, a half-written
//! reason) stays as it is.

use std::fmt::Write as _;

/// One part of the room page, in page order (`part as usize` is its place in [`Part::ALL`]).
/// Each is the content of one element of the page, found by its `id`, so the live check swaps
/// its inside and the element itself stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Header,
    Problem,
    Email,
    Leadership,
    Workstreams,
    Decisions,
    Questions,
    Timeline,
    Members,
    Engagements,
    Contacts,
}

impl Part {
    pub const ALL: [Part; 11] = [
        Part::Header,
        Part::Problem,
        Part::Email,
        Part::Leadership,
        Part::Workstreams,
        Part::Decisions,
        Part::Questions,
        Part::Timeline,
        Part::Members,
        Part::Engagements,
        Part::Contacts,
    ];

    /// The `id` of the element of the page that holds this part.
    pub fn element_id(self) -> &'static str {
        match self {
            Part::Header => "room-header",
            Part::Problem => "problem",
            Part::Email => "email",
            Part::Leadership => "leadership",
            Part::Workstreams => "workstreams",
            Part::Decisions => "decisions",
            Part::Questions => "questions",
            Part::Timeline => "timeline",
            Part::Members => "members",
            Part::Engagements => "engagements",
            Part::Contacts => "contacts",
        }
    }
}

/// What one rendered part looks like, in 48 bits: equal fingerprints mean the page already
/// shows that part as it would be sent. XXH3 is specified, so every instance and every release
/// computes the same fingerprint for the same HTML (std's `DefaultHasher` promises neither),
/// and it reads the page's 17 KB at several GB/s where SipHash took 2% of a room view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint(u64);

impl Fingerprint {
    pub fn of(html: &str) -> Fingerprint {
        Fingerprint(xxhash_rust::xxh3::xxh3_64(html.as_bytes()) & 0xFFFF_FFFF_FFFF)
    }
}

/// The fingerprints of every part, in [`Part::ALL`] order, as the page carries them in the URL
/// it polls: twelve hex digits each, joined by `-`.
pub fn encode(fingerprints: &[Fingerprint]) -> String {
    let mut out = String::with_capacity(fingerprints.len() * 13);
    for (i, fingerprint) in fingerprints.iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        let _ = write!(out, "{:012x}", fingerprint.0);
    }
    out
}

/// What an open page says it shows, read from its `parts` parameter. Anything that is not one
/// well-formed fingerprint per part (a page from before a part was added, a mangled URL) means
/// the page shows nothing known, and every part is sent.
pub fn decode(parts: Option<&str>) -> Vec<Option<Fingerprint>> {
    let known = parts.and_then(|parts| {
        let fingerprints = parts
            .split('-')
            .map(|hex| {
                let well_formed = hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit());
                well_formed
                    .then(|| u64::from_str_radix(hex, 16).ok())
                    .flatten()
                    .map(Fingerprint)
            })
            .collect::<Option<Vec<_>>>()?;
        (fingerprints.len() == Part::ALL.len()).then_some(fingerprints)
    });
    match known {
        Some(fingerprints) => fingerprints.into_iter().map(Some).collect(),
        None => vec![None; Part::ALL.len()],
    }
}

/// Whether the page must be sent this part: it shows something else, or nothing known.
pub fn is_stale(seen: &[Option<Fingerprint>], part: Part, now: Fingerprint) -> bool {
    seen.get(part as usize).copied().flatten() != Some(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(texts: &[&str]) -> Vec<Fingerprint> {
        texts.iter().map(|t| Fingerprint::of(t)).collect()
    }

    #[test]
    fn a_page_that_shows_every_part_as_rendered_is_sent_none() {
        let texts = [
            "header", "problem", "email", "l", "w", "d", "q", "t", "m", "e", "c",
        ];
        let now = rendered(&texts);
        let seen = decode(Some(&encode(&now)));
        assert!(
            Part::ALL
                .iter()
                .all(|&p| !is_stale(&seen, p, now[p as usize]))
        );
    }

    #[test]
    fn only_the_parts_that_read_differently_are_sent() {
        let before = [
            "header", "problem", "email", "l", "w", "d", "q", "t", "m", "e", "c",
        ];
        let mut after = before;
        after[5] = "d, one more decided";
        after[7] = "t, and its event";
        let seen = decode(Some(&encode(&rendered(&before))));
        let now = rendered(&after);
        let stale: Vec<Part> = Part::ALL
            .into_iter()
            .filter(|&p| is_stale(&seen, p, now[p as usize]))
            .collect();
        assert_eq!(stale, vec![Part::Decisions, Part::Timeline]);
    }

    #[test]
    fn anything_but_one_fingerprint_per_part_means_every_part_is_sent() {
        let one = encode(&rendered(&["x"]));
        let eleven = encode(&rendered(&["x"; 11]));
        for parts in [
            None,
            Some(""),
            Some(one.as_str()),
            Some("zzzzzzzzzzzz"),
            Some(&eleven[..eleven.len() - 1]),
            Some(&format!("{eleven}-{one}")),
            Some(&eleven.replace('-', "+")),
        ] {
            let seen = decode(parts);
            assert_eq!(seen.len(), Part::ALL.len(), "{parts:?}");
            assert!(seen.iter().all(Option::is_none), "{parts:?}");
        }
        let seen = decode(Some(&eleven));
        assert!(seen.iter().all(Option::is_some));
    }

    #[test]
    fn fingerprints_are_twelve_hex_digits_and_tell_texts_apart() {
        let a = Fingerprint::of("<p>Decided by Dana</p>");
        let b = Fingerprint::of("<p>Decided by Dana.</p>");
        assert_ne!(a, b);
        assert_eq!(a, Fingerprint::of("<p>Decided by Dana</p>"));
        let encoded = encode(&[a, b]);
        assert_eq!(encoded.len(), 12 + 1 + 12);
        assert!(encoded.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }

    #[test]
    fn fingerprints_are_the_same_on_every_instance_and_release() {
        // XXH3-64 of the empty input is 2d06800538d394c2 (the specification's test vector); a
        // fingerprint is its low 48 bits.
        assert_eq!(encode(&[Fingerprint::of("")]), "800538d394c2");
    }

    #[test]
    fn every_part_has_its_place_and_its_own_element() {
        assert!(Part::ALL.iter().enumerate().all(|(i, &p)| p as usize == i));
        let mut ids: Vec<&str> = Part::ALL.iter().map(|p| p.element_id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Part::ALL.len());
    }
}
