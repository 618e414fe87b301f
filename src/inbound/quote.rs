//! Folding quoted history: a reply usually repeats everything said before it. The room shows what
//! is new and folds the rest, which starts at the first attribution line ("On … wrote:"), an
//! Outlook separator, or a line quoted with `>`.

/// `text` as (what is new, the quoted history after it).
pub fn split(text: &str) -> (&str, &str) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if starts_history(line.trim()) {
            let (fresh, quoted) = text.split_at(offset);
            return (fresh.trim_end(), quoted.trim());
        }
        offset += line.len();
    }
    (text.trim_end(), "")
}

fn starts_history(line: &str) -> bool {
    let lower = line.to_lowercase();
    line.starts_with('>')
        || (lower.starts_with("on ") && (lower.ends_with("wrote:") || lower.ends_with("writes:")))
        || (lower.starts_with("am ") && lower.ends_with("schrieb:"))
        || (lower.starts_with("le ") && lower.ends_with("a écrit :"))
        || lower.starts_with("-----original message-----")
        || lower.starts_with("________________________________")
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn an_attribution_line_starts_the_folded_history() {
        let text = "Friday works for us.\n\nJordan\n\nOn Mon, 30 Nov 2026, Sam wrote:\n> The fix ships Friday.\n";
        assert_eq!(
            split(text),
            (
                "Friday works for us.\n\nJordan",
                "On Mon, 30 Nov 2026, Sam wrote:\n> The fix ships Friday."
            )
        );
    }

    #[test]
    fn quoted_lines_and_outlook_separators_fold_too() {
        assert_eq!(split("Yes.\n> earlier\n"), ("Yes.", "> earlier"));
        assert_eq!(
            split("Yes.\r\n-----Original Message-----\r\nFrom: Sam\r\n"),
            ("Yes.", "-----Original Message-----\r\nFrom: Sam")
        );
    }

    #[test]
    fn a_message_without_history_is_all_new() {
        assert_eq!(split("Just this.\n"), ("Just this.", ""));
        assert_eq!(split(""), ("", ""));
    }
}
