//! Article bodies: Markdown in, safe HTML out, and the words a reader will read.

use pulldown_cmark::{Event, Options, Parser, html};

/// Words read per minute, for `reading_time_minutes`.
pub const WORDS_PER_MINUTE: usize = 200;

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_FOOTNOTES
}

/// Renders Markdown to HTML and sanitizes it: raw HTML in the Markdown is kept when it
/// is safe (tags and attributes on ammonia's allow-list), never escaped into text; no
/// `script`, no event-handler attributes, no `javascript:` links. Links are kept, with
/// `rel="noopener noreferrer"`. A character reference to a control character or a
/// noncharacter (`&#1;`, `&#xFFFF;`) comes out as U+FFFD, like such characters in
/// every text field of the output.
pub fn to_safe_html(markdown: &str) -> String {
    let mut unsafe_html = String::with_capacity(markdown.len() + markdown.len() / 4);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options()));
    let clean = ammonia::clean(&unsafe_html);
    match super::input::xml_safe(&clean) {
        std::borrow::Cow::Borrowed(_) => clean,
        std::borrow::Cow::Owned(replaced) => replaced,
    }
}

/// The text a reader reads: Markdown syntax, link targets and raw HTML tags left out.
pub fn plain_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(_) => text.push(' '),
            Event::Html(h) | Event::InlineHtml(h) => {
                // Keep the words between tags, drop the tags.
                let mut in_tag = false;
                for c in h.chars() {
                    match c {
                        '<' => in_tag = true,
                        '>' => {
                            in_tag = false;
                            text.push(' ');
                        }
                        c if !in_tag => text.push(c),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    text
}

/// Counts words in any script: a word is a run of letters, digits or combining marks
/// (so Arabic with harakat and Spanish with accents count like English), allowing an
/// inner apostrophe or hyphen ("don't", "al-Quds").
pub fn word_count(text: &str) -> usize {
    let mut count = 0;
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let wordy = c.is_alphanumeric() || is_mark(c);
        let joiner = matches!(c, '\'' | '’' | '-')
            && in_word
            && chars.peek().is_some_and(|n| n.is_alphanumeric());
        if wordy || joiner {
            if !in_word {
                count += 1;
                in_word = true;
            }
        } else {
            in_word = false;
        }
    }
    count
}

/// Combining marks that `char::is_alphanumeric` leaves out: Arabic harakat, tatweel,
/// Latin combining accents.
fn is_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{0610}'..='\u{061A}' | '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}')
}

/// Minutes to read `words` words: at least one.
pub fn reading_minutes(words: usize) -> usize {
    words.div_ceil(WORDS_PER_MINUTE).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_to_refused_characters_come_out_replaced() {
        let html = to_safe_html("a&#1;b &#xFFFF; c&#x7f;");
        assert!(
            !html.contains('\u{1}') && !html.contains('\u{FFFF}'),
            "{html:?}"
        );
        assert!(html.contains('\u{FFFD}'), "{html:?}");
    }

    #[test]
    fn scripts_and_handlers_are_removed_but_safe_html_stays() {
        let html = to_safe_html(
            "Hello <b>bold</b> <script>alert(1)</script>\n\n\
             <img src=\"https://x.test/a.png\" onerror=\"alert(1)\">\n\n\
             [link](https://example.com) [bad](javascript:alert(1))",
        );
        assert!(html.contains("<b>bold</b>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("href=\"https://example.com\""), "{html}");
        assert!(html.contains("noopener"), "{html}");
    }

    /// Found by the `markdown` fuzz target: attribute-like words in a table-ish line
    /// are text, rendered as text, and never become an attribute of any tag.
    #[test]
    fn attribute_like_text_stays_text() {
        assert_eq!(to_safe_html("| onerror="), "<p>| onerror=</p>\n");
        let html = to_safe_html("| <img src=x onerror=alert(1)> |\n|---|\n| a |");
        assert!(!html.contains("onerror=alert"), "{html}");
        assert!(html.contains("<img src=\"x\">"), "{html}");
    }

    #[test]
    fn markdown_structure_is_rendered() {
        let html = to_safe_html("## Read more\n\n- one\n- two\n\n> quoted");
        assert!(html.contains("<h2>Read more</h2>"));
        assert!(html.contains("<li>one</li>"));
        assert!(html.contains("<blockquote>"));
    }

    #[test]
    fn words_are_counted_in_every_script() {
        assert_eq!(word_count("The talks resumed on Monday."), 5);
        assert_eq!(word_count("La educación, según el ministro, mejora."), 6);
        assert_eq!(word_count("استؤنفت المحادثات يوم الإثنين"), 4);
        assert_eq!(word_count("مُحَمَّد رَسُول"), 2);
        assert_eq!(word_count("don't stop al-Quds"), 3);
        assert_eq!(word_count("  -- ... "), 0);
    }

    #[test]
    fn plain_text_skips_syntax_and_link_targets() {
        let text = plain_text("## Title\n\nSee [the report](https://example.com/a-very-long-url).");
        assert_eq!(word_count(&text), 4);
        assert!(!text.contains("https"));
    }

    #[test]
    fn reading_time_is_at_least_a_minute() {
        assert_eq!(reading_minutes(0), 1);
        assert_eq!(reading_minutes(200), 1);
        assert_eq!(reading_minutes(201), 2);
        assert_eq!(reading_minutes(1000), 5);
    }
}
