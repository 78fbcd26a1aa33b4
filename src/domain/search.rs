//! Full-text search as readers type: normalisation of text and queries, the FTS5 match
//! expression, and snippets with the matches marked.
//!
//! The same normalisation is applied to what is indexed and to what is searched, so
//! "اسرائيل" finds "إسرائيل", "educacion" finds "educación" and "GAZA" finds "Gaza":
//! letters are lowercased, accents and Arabic short-vowel marks (harakat) and the
//! tatweel are dropped, the alef forms أ إ آ ٱ become ا, ى becomes ي and ة becomes ه.

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use utoipa::ToSchema;

/// Most distinct words of a query that count; later ones are ignored. Each word adds a
/// posting list to walk, so this bounds the work of one search.
pub const MAX_TERMS: usize = 8;
/// Longest word of a query that counts, in characters.
const MAX_TERM_CHARS: usize = 64;
/// Words of context on each side of the first match in a snippet.
const SNIPPET_CONTEXT: usize = 12;
/// Most words in a snippet.
const SNIPPET_WORDS: usize = 36;

/// Text as it is indexed and searched.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        // A run of ASCII is its own canonical decomposition and holds no mark, so only
        // its case changes. Nor does canonical ordering move a mark past an ASCII
        // character (every one is a starter), so the text between such runs is folded
        // alone, with the same result as the whole text at once. An ASCII byte never
        // falls inside a character of several bytes, so each split is at a boundary.
        let ascii = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        let start = out.len();
        out.push_str(&rest[..ascii]);
        out[start..].make_ascii_lowercase();
        rest = &rest[ascii..];
        let other = before_ascii_run(rest);
        fold(&rest[..other], &mut out);
        rest = &rest[other..];
    }
    out
}

/// Where the next run of ASCII long enough to be worth its own pass starts in `text`
/// (its length if none does): the spaces and stops between the words of Arabic text
/// stay with the words, which each pass of [`fold`] would cost more than it saves.
fn before_ascii_run(text: &str) -> usize {
    const LONG: usize = 16;
    let mut run = 0;
    for (i, b) in text.bytes().enumerate() {
        if b.is_ascii() {
            run += 1;
            if run == LONG {
                return i + 1 - LONG;
            }
        } else {
            run = 0;
        }
    }
    text.len()
}

/// [`normalize`] of `text` (which starts and ends at a character's boundary), appended
/// to `out`.
fn fold(text: &str, out: &mut String) {
    text.nfd()
        .filter_map(|c| match c {
            'ـ' => None,
            'ٱ' => Some('ا'),
            'ى' => Some('ي'),
            'ة' => Some('ه'),
            c if is_combining_mark(c) => None,
            c => Some(c),
        })
        .flat_map(char::to_lowercase)
        .for_each(|c| out.push(c));
}

/// Words so common in the three editions' languages that nearly every article holds
/// them (normalised, as [`normalize`] leaves them). Matching one costs a walk over most
/// of the archive and tells nothing, so they are left out of a query that has other
/// words, and a query of nothing else finds nothing.
const STOP_WORDS: &[&str] = &[
    // English
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "he", "in", "is",
    "it", "its", "of", "on", "or", "that", "the", "to", "was", "were", "will", "with",
    // Spanish
    "al", "con", "de", "del", "el", "en", "es", "la", "las", "lo", "los", "para", "por", "que",
    "se", "su", "un", "una", "y",
    // Arabic, as folded (not "على"/"إلى": folded they are "علي"/"الي", a name and a
    // word of their own)
    "في", "من", "ان", "عن", "مع", "هذا", "هذه", "التي", "الذي", "و",
];

/// The words of a query, normalised; punctuation and FTS syntax are just separators.
/// A word counts once however often it is repeated; stop words are dropped when the
/// query has other words (the last word is kept while it may be the start of a longer
/// one being typed); at most [`MAX_TERMS`] words count. An empty result means there is
/// nothing worth searching for.
pub fn terms(query: &str) -> Vec<String> {
    let normalized = normalize(query);
    let mut words: Vec<String> = Vec::new();
    for word in normalized
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word: String = word.chars().take(MAX_TERM_CHARS).collect();
        if !words.contains(&word) {
            words.push(word);
        }
    }
    let Some(last) = words.pop() else {
        return words;
    };
    let is_stop = |w: &str| STOP_WORDS.contains(&w);
    let mut kept: Vec<String> = words.into_iter().filter(|w| !is_stop(w)).collect();
    if !is_stop(&last) || !kept.is_empty() {
        kept.push(last);
    }
    if kept.len() > MAX_TERMS {
        // Keep the first words and the one being typed.
        let last = kept.pop();
        kept.truncate(MAX_TERMS - 1);
        kept.extend(last);
    }
    kept
}

/// A search as FTS5 reads it: the MATCH expression, and the names of its phrases for
/// the ranking ([`crate::db::fts_rank`]): a phrase's own text, or, for a prefix
/// searched as the words of the index that start with it, the prefix and the number
/// of those words (`"clim"*=2`), which the ranking counts as the one phrase the prefix
/// was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fts5Search {
    pub expression: String,
    pub names: String,
}

impl Fts5Search {
    /// Every word must appear; the last one may be the start of a word (the reader is
    /// still typing). Each word is quoted, so nothing a reader types is read as FTS
    /// syntax. `None` when there is nothing to search for.
    pub fn prefixed(terms: &[String]) -> Option<Self> {
        let expression = joined(terms, '"', "*", " ")?;
        Some(Self {
            names: expression.clone(),
            expression,
        })
    }

    /// The same search when the words of the index that start with the last term are
    /// known (see [`crate::db::sqlite::completions`]): one word replaces the prefix,
    /// several are searched as `("one" OR "other")`. Either finds exactly the articles
    /// the prefix finds, with the same ranks. `None` without terms or words.
    pub fn completed(terms: &[String], words: &[String]) -> Option<Self> {
        let (last, first) = terms.split_last()?;
        match words {
            [] => None,
            [whole] => {
                let words: Vec<String> = first.iter().cloned().chain([whole.clone()]).collect();
                let expression = joined(&words, '"', "", " ")?;
                Some(Self {
                    names: expression.clone(),
                    expression,
                })
            }
            several => {
                let either: Vec<String> = several.iter().map(|w| format!("\"{w}\"")).collect();
                let group = format!("({})", either.join(" OR "));
                let names = format!("\"{last}\"*={}", several.len());
                let (expression, names) = match joined(first, '"', "", " AND ") {
                    Some(before) => (
                        format!("{before} AND {group}"),
                        format!("{} {names}", joined(first, '"', "", " ")?),
                    ),
                    None => (group, names),
                };
                Some(Self { expression, names })
            }
        }
    }
}

/// The same for PostgreSQL: a tsquery (`'gaza' & 'cai':*`). Terms are letters and
/// digits only, so quoting them is enough.
pub fn tsquery(terms: &[String]) -> Option<String> {
    joined(terms, '\'', ":*", " & ")
}

/// Every term quoted, the last one marked as a prefix, joined by `and`.
fn joined(terms: &[String], quote: char, prefix: &str, and: &str) -> Option<String> {
    let last = terms.len().checked_sub(1)?;
    let quoted: Vec<String> = terms
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mark = if i == last { prefix } else { "" };
            format!("{quote}{t}{quote}{mark}")
        })
        .collect();
    Some(quoted.join(and))
}

/// How a search result matched.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SearchHit {
    /// Relevance from 0 to 1, relative to the best match of the search that the caller
    /// can see (which has 1): BM25, with the title weighted above the summary above the
    /// body.
    #[schema(example = 0.8125, minimum = 0, maximum = 1)]
    pub rank: f64,
    /// A short passage with each match in `<mark>`…`</mark>`; the rest of the text is
    /// escaped (`&amp;`, `&lt;`, `&gt;`), so the snippet can be inserted as HTML.
    #[schema(example = "… negotiators met in <mark>Cairo</mark> on Tuesday …")]
    pub snippet: String,
}

fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// The words of `text` with their byte ranges.
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let wordy = c.is_alphanumeric() || is_combining_mark(c) || c == 'ـ';
        match (wordy, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                found.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        found.push((s, text.len()));
    }
    found
}

fn matches(word: &str, terms: &[String]) -> bool {
    let word = normalize(word);
    let last = terms.len().saturating_sub(1);
    terms
        .iter()
        .enumerate()
        .any(|(i, t)| word == *t || (i == last && word.starts_with(t.as_str())))
}

/// A snippet of the first of `fields` (title, summary, body text) that has a match.
pub fn snippet(fields: &[&str], terms: &[String]) -> String {
    for field in fields {
        let spans = words(field);
        let Some(first) = spans
            .iter()
            .position(|&(s, e)| matches(&field[s..e], terms))
        else {
            continue;
        };
        let from = first.saturating_sub(SNIPPET_CONTEXT);
        let to = (from + SNIPPET_WORDS).min(spans.len());
        let mut out = String::new();
        if from > 0 {
            out.push('…');
        }
        let mut cursor = spans[from].0;
        for &(s, e) in &spans[from..to] {
            escape(&field[cursor..s], &mut out);
            if matches(&field[s..e], terms) {
                out.push_str("<mark>");
                escape(&field[s..e], &mut out);
                out.push_str("</mark>");
            } else {
                escape(&field[s..e], &mut out);
            }
            cursor = e;
        }
        if to < spans.len() {
            out.push('…');
        } else {
            escape(&field[cursor..], &mut out);
        }
        return out.trim().to_owned();
    }
    let mut out = String::new();
    escape(
        &fields
            .first()
            .map(|f| f.chars().take(160).collect::<String>())
            .unwrap_or_default(),
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`normalize`] as it was written first: the fold over the whole text at once.
    fn normalize_whole(text: &str) -> String {
        let mut out = String::new();
        fold(text, &mut out);
        out
    }

    #[test]
    fn ascii_runs_fold_as_the_whole_text_would() {
        let pieces = [
            "Gaza",
            " ",
            "GAZA-2026",
            "e\u{301}",
            "E\u{301}\u{323}",
            "\u{301}",
            "ÉDUCACIÓN",
            "educación",
            "Ñandú",
            "مُحَمَّد",
            "الـقـدس",
            "ٱ",
            "مستشفى",
            "آمنة",
            "İstanbul",
            "ΣΟΦΙΑ",
            "ß",
            "ǅ",
            "\u{1E9B}\u{323}",
            "a\u{323}\u{302}",
            "\u{FB01}",
            "!?",
            "\n\t",
            "ﷺ",
            "日本",
            "Ǆ",
            "x\u{0670}y",
            "OFFICIALS WEIGH NEW RULES",
            "مسؤولون. قواعد، جديدة",
        ];
        // Every piece alone, then every pair of them, as they are and with a separator,
        // a letter, a mark or an accented letter after each.
        let mut texts: Vec<String> = pieces.iter().map(|p| (*p).to_owned()).collect();
        for a in pieces {
            for b in pieces {
                texts.push(format!("{a}{b}"));
                for c in ["", " ", "Z", "\u{308}", "é"] {
                    texts.push(format!("{a}{c}{b}{c}"));
                }
            }
        }
        for text in &texts {
            assert_eq!(normalize(text), normalize_whole(text), "{text:?}");
        }
    }

    #[test]
    fn arabic_letter_forms_and_marks_are_folded() {
        assert_eq!(normalize("إسرائيل"), normalize("اسرائيل"));
        assert_eq!(normalize("أحمد"), "احمد");
        assert_eq!(normalize("آمنة"), "امنه");
        assert_eq!(normalize("مُحَمَّد"), "محمد");
        assert_eq!(normalize("مستشفى"), "مستشفي");
        assert_eq!(normalize("الـقـدس"), "القدس");
    }

    #[test]
    fn latin_accents_and_case_are_folded() {
        assert_eq!(normalize("Educación"), "educacion");
        assert_eq!(normalize("ÑANDÚ"), "nandu");
    }

    #[test]
    fn fts_syntax_is_only_words() {
        let t = terms(r#"gaza" OR (ceasefire* NEAR/2 "talks"-  ^col:x"#);
        assert_eq!(t, ["gaza", "ceasefire", "near", "2", "talks", "col", "x"]);
        let search = Fts5Search::prefixed(&terms("ceasefire tal")).unwrap();
        assert_eq!(search.expression, "\"ceasefire\" \"tal\"*");
        assert_eq!(search.names, search.expression);
        assert!(Fts5Search::prefixed(&terms("\"()*:^")).is_none());
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let search = Fts5Search::completed(&terms("ceasefire tal"), &words(&["talks"])).unwrap();
        assert_eq!(search.expression, "\"ceasefire\" \"talks\"");
        assert_eq!(search.names, search.expression);
        let search =
            Fts5Search::completed(&terms("gaza ceasefire tal"), &words(&["talk", "talks"]))
                .unwrap();
        assert_eq!(
            search.expression,
            "\"gaza\" AND \"ceasefire\" AND (\"talk\" OR \"talks\")"
        );
        assert_eq!(search.names, "\"gaza\" \"ceasefire\" \"tal\"*=2");
        let search = Fts5Search::completed(&terms("tal"), &words(&["talk", "talks"])).unwrap();
        assert_eq!(search.expression, "(\"talk\" OR \"talks\")");
        assert_eq!(search.names, "\"tal\"*=2");
        assert!(Fts5Search::completed(&[], &words(&["talks"])).is_none());
        assert!(Fts5Search::completed(&terms("tal"), &[]).is_none());
    }

    #[test]
    fn repeated_and_common_words_do_not_multiply_the_work() {
        assert_eq!(terms("gaza gaza GAZA Gaza"), ["gaza"]);
        assert_eq!(terms("the talks in the capital"), ["talks", "capital"]);
        assert!(
            terms("the the of and in").is_empty(),
            "nothing worth searching"
        );
        assert!(Fts5Search::prefixed(&terms("the of to in")).is_none());
        assert_eq!(terms("de la paz"), ["paz"]);
        assert_eq!(terms("في غزه"), ["غزه"]);
        // The last word may be the start of a longer one.
        assert_eq!(terms("gaza th"), ["gaza", "th"]);
        assert_eq!(terms("gaza the"), ["gaza", "the"]);
        let many = (0..30)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let t = terms(&many);
        assert_eq!(t.len(), MAX_TERMS);
        assert_eq!(t.last().map(String::as_str), Some("w29"));
    }

    #[test]
    fn tsqueries_quote_words_and_prefix_the_last() {
        let q = tsquery(&["gaza".into(), "cai".into()]).unwrap();
        assert_eq!(q, "'gaza' & 'cai':*");
        assert_eq!(tsquery(&[]), None);
    }

    #[test]
    fn snippets_mark_matches_and_escape_the_rest() {
        let body = "Before <b>anything</b> else, negotiators met in Cairo on Tuesday & talked.";
        let s = snippet(&["A title", "", body], &terms("cairo"));
        assert!(s.contains("<mark>Cairo</mark>"), "{s}");
        assert!(s.contains("&lt;b&gt;") && s.contains("&amp;"), "{s}");
        let ar = snippet(&["وصل الوفد إلى إسرائيل اليوم"], &terms("اسرائيل"));
        assert!(ar.contains("<mark>إسرائيل</mark>"), "{ar}");
        let prefix = snippet(&["Education reform"], &terms("educ"));
        assert!(prefix.contains("<mark>Education</mark>"), "{prefix}");
    }

    #[test]
    fn long_texts_are_cut_around_the_match() {
        let body = format!("{} needle {}", "word ".repeat(100), "word ".repeat(100));
        let s = snippet(&[&body], &terms("needle"));
        assert!(s.starts_with('…') && s.ends_with('…'));
        assert!(s.split_whitespace().count() <= SNIPPET_WORDS + 2);
    }
}
