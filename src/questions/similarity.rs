//! When two questions ask the same thing. Text becomes a set of normalised terms (lower-cased,
//! stop words dropped, Snowball stemming, synonyms folded onto one word); two questions are similar
//! when their term sets overlap enough (Dice coefficient). The same terms feed the database
//! pre-filter (`question_terms`), so only candidates sharing a term are ever scored.

use std::collections::BTreeSet;

use rust_stemmers::{Algorithm, Stemmer};

/// Names the rules that turn text into terms. Change it whenever [`terms`] would give other
/// terms for the same text: the stored terms are then rebuilt at the next start.
pub const VERSION: &str = "snowball-english-1";

/// Questions at or above this overlap are shown as "already asked".
pub const THRESHOLD: f64 = 0.5;

const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "been",
    "being",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "for",
    "from",
    "get",
    "going",
    "got",
    "had",
    "has",
    "have",
    "he",
    "her",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "know",
    "let",
    "like",
    "may",
    "me",
    "might",
    "more",
    "much",
    "my",
    "need",
    "no",
    "not",
    "now",
    "of",
    "on",
    "or",
    "our",
    "please",
    "really",
    "she",
    "should",
    "so",
    "some",
    "still",
    "tell",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "to",
    "us",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "currently",
    "right",
    "any",
    "many",
    "want",
    "think",
    "go",
    "able",
    "kind",
    "sort",
    "one",
    "per",
    "new",
    "each",
    "every",
];

/// Snowball stems that mean the same thing here, folded onto the first word.
const SYNONYMS: &[(&str, &[&str])] = &[
    (
        "buy",
        &[
            "buy", "bought", "purchas", "order", "procur", "acquir", "addit",
        ],
    ),
    ("plan", &["plan", "intend", "expect", "schedul", "aim"]),
    ("capacity", &["capac", "headroom"]),
    (
        "hardware",
        &["hardwar", "server", "node", "host", "machin", "rack"],
    ),
    ("storage", &["storag", "disk", "drive", "volum"]),
    (
        "use",
        &["use", "usag", "util", "utilis", "consum", "consumpt"],
    ),
    ("alert", &["alert", "notifi", "notif", "warn", "alarm"]),
    ("forecast", &["forecast", "predict", "project", "estim"]),
    (
        "grow",
        &["grow", "growth", "increas", "expand", "expans", "scale"],
    ),
    ("budget", &["budget", "spend", "spent"]),
    ("cost", &["cost", "price", "expens", "pay", "paid"]),
    ("month", &["month"]),
    ("week", &["week"]),
    ("year", &["year", "annual"]),
    ("renew", &["renew"]),
    ("contract", &["contract", "agreement", "licens"]),
    ("migrat", &["migrat", "move", "transit", "switch"]),
    ("report", &["report", "dashboard"]),
    ("deadline", &["deadlin", "due", "date"]),
    ("problem", &["problem", "issu", "troubl"]),
    ("decid", &["decid", "decis", "choos", "choic"]),
    ("team", &["team", "staff", "peopl"]),
];

/// English Snowball (Porter 2) stemming.
fn stem(word: &str) -> String {
    thread_local! {
        static STEMMER: Stemmer = Stemmer::create(Algorithm::English);
    }
    STEMMER.with(|stemmer| stemmer.stem(word).into_owned())
}

fn canonical(stemmed: String) -> String {
    SYNONYMS
        .iter()
        .find(|(_, forms)| forms.contains(&stemmed.as_str()))
        .map_or(stemmed, |(word, _)| (*word).to_owned())
}

/// The normalised, de-duplicated terms of a question, sorted.
pub fn terms(text: &str) -> Vec<String> {
    let set: BTreeSet<String> = text
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| word.len() > 1 && !STOP_WORDS.contains(word))
        .map(|word| canonical(stem(word)))
        .filter(|term| !STOP_WORDS.contains(&term.as_str()))
        .collect();
    set.into_iter().collect()
}

/// Overlap of two term sets: 2·|A∩B| / (|A|+|B|), from 0 (nothing shared) to 1 (same terms).
pub fn score(a: &[String], b: &[String]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = a.iter().filter(|term| b.contains(term)).count();
    2.0 * shared as f64 / (a.len() + b.len()) as f64
}

/// How much of a question a passage covers: the share of the question's terms it mentions, from
/// 0 to 1. A long answer shares few terms with a short question, so the overlap above would
/// understate it; this measure (same terms, same stemming and synonyms) does not.
pub fn coverage(question: &[String], passage: &[String]) -> f64 {
    if question.is_empty() {
        return 0.0;
    }
    let covered = question
        .iter()
        .filter(|term| passage.contains(term))
        .count();
    covered as f64 / question.len() as f64
}

pub fn are_similar(a: &str, b: &str) -> bool {
    score(&terms(a), &terms(b)) >= THRESHOLD
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (question, question, should they count as the same question?)
    const PAIRS: &[(&str, &str, bool)] = &[
        (
            "When do you plan to buy more capacity?",
            "When are you planning to order more capacity?",
            true,
        ),
        (
            "When do you plan to buy more capacity?",
            "Are you planning to purchase additional capacity soon?",
            true,
        ),
        (
            "How much storage do you use per month?",
            "What is your monthly storage usage?",
            true,
        ),
        (
            "Which servers are running out of disk first?",
            "Which hosts run out of storage first?",
            true,
        ),
        (
            "Do you get alerts before capacity runs out?",
            "Are you notified before you run out of capacity?",
            true,
        ),
        (
            "What is your budget for new hardware this year?",
            "How much can you spend on servers this year?",
            true,
        ),
        (
            "Who decides on hardware purchases?",
            "Who makes the decision to buy hardware?",
            true,
        ),
        (
            "When does your contract renew?",
            "What is the renewal date of your agreement?",
            true,
        ),
        (
            "How fast is your data growing?",
            "What growth rate do you see in your data?",
            true,
        ),
        (
            "Can you share the capacity report you use?",
            "Could you send us the capacity dashboard you use?",
            true,
        ),
        (
            "Are you planning to migrate to the cloud?",
            "Do you intend to move to the cloud?",
            true,
        ),
        (
            "How many nodes are in the cluster?",
            "How many servers does the cluster have?",
            true,
        ),
        (
            "When do you plan to buy more capacity?",
            "What capacity do you have today?",
            false,
        ),
        (
            "When do you plan to buy more capacity?",
            "When do you plan to migrate the database?",
            false,
        ),
        (
            "How much storage do you use per month?",
            "How much do you pay per month for support?",
            false,
        ),
        (
            "Do you get alerts before capacity runs out?",
            "Who receives the weekly status email?",
            false,
        ),
        (
            "What is your budget for new hardware this year?",
            "What did the outage cost you this year?",
            false,
        ),
        (
            "When does your contract renew?",
            "When is the next steering meeting?",
            false,
        ),
        (
            "Which team owns the monitoring setup?",
            "Which dashboards does the finance team read?",
            false,
        ),
        (
            "How many nodes are in the cluster?",
            "How many people are on the operations team?",
            false,
        ),
        (
            "Can you share the capacity report you use?",
            "Can you share the network diagram?",
            false,
        ),
        (
            "Are you planning to migrate to the cloud?",
            "Are you planning to hire more engineers?",
            false,
        ),
        (
            "What is the root cause of the slowdown?",
            "When will the fix be released?",
            false,
        ),
        (
            "Is the data retention policy 90 days?",
            "How long do you keep the logs?",
            false,
        ),
    ];

    #[test]
    fn the_labelled_pairs_are_judged_correctly() {
        let wrong: Vec<String> = PAIRS
            .iter()
            .filter(|(a, b, same)| are_similar(a, b) != *same)
            .map(|(a, b, same)| {
                format!(
                    "{a:?} ~ {b:?} should be {same}: {:?} vs {:?} = {:.2}",
                    terms(a),
                    terms(b),
                    score(&terms(a), &terms(b))
                )
            })
            .collect();
        assert!(wrong.is_empty(), "misjudged pairs:\n{}", wrong.join("\n"));
    }

    #[test]
    fn rewordings_fold_onto_the_same_terms() {
        assert_eq!(
            terms("When do you plan to buy more capacity?"),
            ["buy", "capacity", "plan"]
        );
        assert_eq!(
            terms("When are you planning to order more capacity?"),
            ["buy", "capacity", "plan"]
        );
    }

    #[test]
    fn empty_or_stop_word_questions_match_nothing() {
        assert!(terms("What is it?").is_empty());
        assert_eq!(score(&terms("What is it?"), &terms("What is it?")), 0.0);
    }
}
