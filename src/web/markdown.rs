//! The small Markdown subset update texts are written in (paragraphs, lists, emphasis, links),
//! rendered to HTML through `pulldown-cmark` and sanitised by `ammonia`: whatever a person types,
//! only harmless tags reach the page.

use pulldown_cmark::{Options, Parser, html};

/// Safe HTML for `text`; raw HTML in the text is shown as text, never interpreted.
pub fn to_html(text: &str) -> String {
    let parser = Parser::new_ext(text, Options::empty()).map(|event| match event {
        pulldown_cmark::Event::Html(raw) | pulldown_cmark::Event::InlineHtml(raw) => {
            pulldown_cmark::Event::Text(raw)
        }
        other => other,
    });
    let mut rendered = String::new();
    html::push_html(&mut rendered, parser);
    ammonia::Builder::default()
        .tags(
            [
                "p",
                "ul",
                "ol",
                "li",
                "em",
                "strong",
                "a",
                "code",
                "br",
                "blockquote",
            ]
            .into(),
        )
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&rendered)
        .to_string()
}

/// The askama filter: `{{ body.risks|markdown|safe }}`.
pub mod filters {
    #[askama::filter_fn]
    pub fn markdown<T: std::fmt::Display>(
        text: T,
        _: &dyn askama::Values,
    ) -> askama::Result<String> {
        Ok(super::to_html(&text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulled_in_facts_become_real_lists() {
        let html = to_html("Since last time:\n\n- Workstream **Fix** is active\n- Decision made");
        assert!(html.contains("<ul>"), "{html}");
        assert!(
            html.contains("<li>Workstream <strong>Fix</strong> is active</li>"),
            "{html}"
        );
    }

    #[test]
    fn markup_and_scripts_never_reach_the_page() {
        let html =
            to_html("<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=y>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;script&gt;"),
            "raw HTML is shown as text: {html}"
        );
    }
}
