//! The rules every text and link field follows, shared by request checks and feed output.

use std::borrow::Cow;

/// How free text may look.
#[derive(Debug, Clone, Copy)]
pub struct TextRule {
    /// Shortest length in characters (after ignoring surrounding whitespace for "empty").
    pub min: usize,
    /// Longest length in characters.
    pub max: usize,
    /// Whether line breaks and tabs are allowed.
    pub multiline: bool,
}

impl TextRule {
    /// A one-line text of `min..=max` characters.
    pub const fn line(min: usize, max: usize) -> Self {
        Self {
            min,
            max,
            multiline: false,
        }
    }

    /// A multi-line text of at most `max` characters.
    pub const fn block(max: usize) -> Self {
        Self {
            min: 0,
            max,
            multiline: true,
        }
    }

    /// Checks `s`; the message says which rule failed.
    ///
    /// Every rule refuses C0 controls other than tab, newline and carriage return and
    /// Unicode noncharacters ([`is_refused_char`]): one character of them makes an XML
    /// feed unreadable. One-line texts also refuse tab, newline, carriage return, DEL
    /// and C1 controls; multi-line texts refuse DEL and C1. Bidi and joiner marks
    /// (U+061C, U+200C-U+200F, U+2066-U+2069) are text and pass. Nothing is stripped.
    pub fn check(&self, s: &str) -> Result<(), String> {
        let chars = s.chars().count();
        if self.min > 0 && s.trim().is_empty() {
            return Err("must not be empty".into());
        }
        if chars < self.min {
            return Err(format!("must be at least {} characters", self.min));
        }
        if chars > self.max {
            return Err(format!("must be at most {} characters", self.max));
        }
        if let Some(c) = s.chars().find(|&c| is_noncharacter(c)) {
            return Err(format!(
                "must not contain Unicode noncharacters (found U+{:04X})",
                u32::from(c)
            ));
        }
        let bad_control = s
            .chars()
            .find(|&c| c.is_control() && !(self.multiline && matches!(c, '\n' | '\r' | '\t')));
        if let Some(c) = bad_control {
            let code = u32::from(c);
            return Err(if self.multiline {
                format!("must not contain control characters (found U+{code:04X})")
            } else {
                format!("must be a single line without control characters (found U+{code:04X})")
            });
        }
        Ok(())
    }
}

/// True for a Unicode noncharacter: U+FDD0-U+FDEF and the last two code points of
/// every plane (U+FFFE, U+FFFF, U+1FFFE, U+1FFFF ... U+10FFFF).
pub fn is_noncharacter(c: char) -> bool {
    let n = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&n) || n & 0xFFFE == 0xFFFE
}

/// True for a character no text field accepts, whatever its rule: a C0 control other
/// than tab, newline and carriage return (XML 1.0 forbids them), or a noncharacter
/// (XML forbids U+FFFE and U+FFFF and discourages the rest).
pub fn is_refused_char(c: char) -> bool {
    matches!(c, '\0'..='\x08' | '\x0B' | '\x0C' | '\x0E'..='\x1F') || is_noncharacter(c)
}

/// `s` ready for an XML document: each [`is_refused_char`] character (stored before
/// the rule existed, or written to the database directly) becomes U+FFFD, so a
/// document is well-formed whatever is stored. Borrows when nothing changes.
pub fn xml_safe(s: &str) -> Cow<'_, str> {
    if s.chars().any(is_refused_char) {
        Cow::Owned(
            s.chars()
                .map(|c| if is_refused_char(c) { '\u{FFFD}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// Longest URL a link field holds.
pub const MAX_URL_CHARS: usize = 2_000;
const URL_MESSAGE: &str = "must be an absolute http or https URL";

/// The rule of [`Checker::url`](super::input::Checker::url): the normalised URL, or why
/// it is refused.
pub fn normalise_url(value: &str) -> Result<String, String> {
    if value.chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "{URL_MESSAGE} of at most {MAX_URL_CHARS} characters"
        ));
    }
    // The parser would silently drop tabs and newlines: refuse them, as every other
    // control character and noncharacter, instead.
    if TextRule::line(1, MAX_URL_CHARS).check(value).is_err() {
        return Err(URL_MESSAGE.into());
    }
    let url = url::Url::parse(value).map_err(|_| URL_MESSAGE.to_owned())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(URL_MESSAGE.into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{URL_MESSAGE} without a user name or password"));
    }
    let normalised = String::from(url);
    if normalised.chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "{URL_MESSAGE} of at most {MAX_URL_CHARS} characters"
        ));
    }
    Ok(normalised)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        let title = TextRule::line(1, 5);
        assert!(title.check("hello").is_ok());
        assert!(title.check("   ").is_err());
        assert!(title.check("toolong").is_err());
        assert!(title.check("a\nb").is_err());
        assert!(TextRule::block(10).check("a\nb").is_ok());
        assert!(TextRule::line(1, 10).check("مرحبا").is_ok());
    }

    /// Characters every rule refuses, one-line or multi-line.
    const REFUSED: &[char] = &[
        '\0',
        '\u{1}',
        '\u{8}',
        '\u{B}',
        '\u{C}',
        '\u{E}',
        '\u{1F}',
        '\u{FFFE}',
        '\u{FFFF}',
        '\u{FDD0}',
        '\u{FDEF}',
        '\u{1FFFE}',
        '\u{1FFFF}',
        '\u{10FFFE}',
        '\u{10FFFF}',
    ];
    /// Bidi and joiner marks: text, accepted everywhere.
    const MARKS: &[char] = &[
        '\u{61C}', '\u{200C}', '\u{200D}', '\u{200E}', '\u{200F}', '\u{2066}', '\u{2067}',
        '\u{2068}', '\u{2069}',
    ];

    #[test]
    fn controls_and_noncharacters_are_refused_by_every_rule() {
        for rule in [TextRule::line(1, 50), TextRule::block(50)] {
            for &c in REFUSED {
                let text = format!("a{c}b");
                assert!(
                    rule.check(&text).is_err(),
                    "{rule:?} accepted U+{:04X}",
                    c as u32
                );
                assert!(is_refused_char(c), "U+{:04X}", c as u32);
            }
        }
        let message = TextRule::block(50).check("a\u{FFFF}").unwrap_err();
        assert!(message.contains("U+FFFF"), "{message}");
        let message = TextRule::line(1, 50).check("a\u{1}").unwrap_err();
        assert!(message.contains("U+0001"), "{message}");
    }

    #[test]
    fn bidi_and_joiner_marks_are_text() {
        for rule in [TextRule::line(1, 50), TextRule::block(50)] {
            for &c in MARKS {
                assert!(rule.check(&format!("a{c}b")).is_ok(), "U+{:04X}", c as u32);
                assert!(!is_refused_char(c));
            }
        }
        // Neighbours of the noncharacter ranges are ordinary characters.
        for c in ['\u{FDCF}', '\u{FDF0}', '\u{FFFD}', '\u{1FFFD}', '\u{10000}'] {
            assert!(
                TextRule::line(1, 5).check(&format!("a{c}")).is_ok(),
                "U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn line_breaks_only_in_multi_line_text_and_del_c1_in_neither() {
        for c in ['\t', '\n', '\r'] {
            assert!(TextRule::block(5).check(&format!("a{c}b")).is_ok());
            assert!(TextRule::line(1, 5).check(&format!("a{c}b")).is_err());
            assert!(!is_refused_char(c));
        }
        for c in ['\u{7F}', '\u{80}', '\u{85}', '\u{9F}'] {
            assert!(TextRule::block(5).check(&format!("a{c}b")).is_err());
            assert!(TextRule::line(1, 5).check(&format!("a{c}b")).is_err());
        }
    }

    #[test]
    fn the_xml_form_replaces_exactly_the_refused_characters() {
        assert!(matches!(xml_safe("plain \u{200F}text\n"), Cow::Borrowed(_)));
        assert_eq!(
            xml_safe("a\u{FFFF}b\u{1}c\u{10FFFE}"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}"
        );
        for c in '\0'..=char::MAX {
            let out = xml_safe(c.encode_utf8(&mut [0; 4])).chars().next();
            let out = out.unwrap_or_default();
            let xml_char = matches!(out, '\t' | '\n' | '\r' | ' '..='\u{D7FF}'
                | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
            assert!(xml_char && !is_noncharacter(out), "U+{:04X}", c as u32);
            assert_eq!(out != c, is_refused_char(c), "U+{:04X}", c as u32);
            // What XML output would replace, no text rule lets in.
            if is_refused_char(c) {
                let one = c.encode_utf8(&mut [0; 4]).to_owned();
                assert!(TextRule::block(5).check(&one).is_err());
                assert!(TextRule::line(0, 5).check(&one).is_err());
            }
        }
    }

    #[test]
    fn urls_are_absolute_http_and_come_back_normalised() {
        assert_eq!(
            normalise_url("HTTPS://Example.COM/a b").as_deref(),
            Ok("https://example.com/a%20b")
        );
        assert_eq!(
            normalise_url("http://example.com").as_deref(),
            Ok("http://example.com/")
        );
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "ftp://example.com/x",
            "mailto:desk@example.com",
            "//evil.example/x",
            "/relative/path",
            "relative",
            "http://",
            "https://user:pass@example.com/",
            "https://user@example.com/",
            "https://exa\tmple.com/",
            "https://example.com/\n",
            "https://example.com/\u{FFFF}",
            "",
        ] {
            let message = normalise_url(bad).unwrap_err();
            assert!(
                message.starts_with("must be an absolute http or https URL"),
                "{bad}: {message}"
            );
        }
        assert!(
            normalise_url("https://u:p@example.com/")
                .unwrap_err()
                .contains("password")
        );
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert!(normalise_url(&long).unwrap_err().contains("2000"));
        // Within the limit as sent, over it once percent-encoded.
        let spaces = format!("https://example.com/{}x", " ".repeat(1_000));
        assert!(normalise_url(&spaces).is_err());
    }
}
