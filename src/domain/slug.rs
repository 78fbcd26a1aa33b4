//! Slugs: the readable, unique path names of resources (`gaza-ceasefire-talks`).

/// Longest slug accepted or generated.
pub const MAX_SLUG_LEN: usize = 200;
/// Room left at the end of a generated slug for a `-2`, `-3`... suffix.
const SUFFIX_ROOM: usize = 8;

/// True when `s` matches `^[a-z0-9]+(-[a-z0-9]+)*$`, is at most 200 characters and is
/// not all digits (a path segment of digits is an id).
pub fn is_valid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SLUG_LEN
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.bytes().all(|b| b.is_ascii_digit())
}

/// Why a client-supplied slug is refused, or `None` when it is fine.
pub fn problem(s: &str) -> Option<&'static str> {
    if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
        Some("must not be all digits")
    } else if s.len() > MAX_SLUG_LEN {
        Some("must be at most 200 characters")
    } else if !is_valid(s) {
        Some("must be lowercase letters and digits separated by single hyphens")
    } else {
        None
    }
}

/// Makes a slug from a title or name, transliterating to ASCII so that Arabic and
/// Spanish text gives a readable slug. `kind` is used when nothing usable is left
/// (an all-emoji name) and to keep an all-digit title from looking like an id.
pub fn slugify(text: &str, kind: &str) -> String {
    let ascii: String = arabic_article_prefix(text)
        .chars()
        .map(|c| match arabic_letter(c) {
            Some(latin) => latin.to_owned(),
            None => any_ascii::any_ascii_char(c).to_owned(),
        })
        .collect();
    let mut slug = String::with_capacity(ascii.len());
    let mut pending_hyphen = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_hyphen && !slug.is_empty() {
                slug.push('-');
            }
            pending_hyphen = false;
            slug.push(c.to_ascii_lowercase());
        } else if c != '\'' {
            pending_hyphen = true;
        }
    }
    let slug = truncate_at_hyphen(&slug, MAX_SLUG_LEN - SUFFIX_ROOM - kind.len() - 1);
    if slug.is_empty() {
        kind.to_owned()
    } else if slug.bytes().all(|b| b.is_ascii_digit()) {
        format!("{kind}-{slug}")
    } else {
        slug.to_owned()
    }
}

/// Picks `base`, or `base-2`, `base-3`... whichever is not in `taken`.
pub fn first_free(base: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == base) {
        return base.to_owned();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|candidate| !taken.iter().any(|t| t == candidate))
        .unwrap_or_else(|| base.to_owned())
}

/// A simple romanization of the Arabic letters, so that long vowels written with alif,
/// waw and ya stay in the slug (generic transliteration drops alif, which leaves slugs
/// such as "stinf" for "استئناف" instead of "astinaf"). Short-vowel marks are dropped.
fn arabic_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'ا' | 'أ' | 'آ' | 'ٱ' | 'ى' | 'ة' => "a",
        'إ' => "i",
        'ب' => "b",
        'ت' => "t",
        'ث' => "th",
        'ج' => "j",
        'ح' | 'ه' => "h",
        'خ' => "kh",
        'د' => "d",
        'ذ' => "dh",
        'ر' => "r",
        'ز' => "z",
        'س' => "s",
        'ش' => "sh",
        'ص' => "s",
        'ض' => "d",
        'ط' => "t",
        'ظ' => "z",
        'غ' => "gh",
        'ف' => "f",
        'ق' => "q",
        'ك' => "k",
        'ل' => "l",
        'م' => "m",
        'ن' => "n",
        'و' | 'ؤ' => "w",
        'ي' | 'ئ' => "y",
        'ع' | 'ء' | 'ـ' | '\u{064B}'..='\u{065F}' | '\u{0670}' => "",
        _ => return None,
    })
}

/// The Arabic definite article "ال" at the start of a word reads as "al-".
fn arabic_article_prefix(text: &str) -> String {
    text.split(' ')
        .map(|word| match word.strip_prefix("ال") {
            Some(rest) if !rest.is_empty() => format!("al {rest}"),
            _ => word.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn truncate_at_hyphen(slug: &str, max: usize) -> &str {
    if slug.len() <= max {
        return slug;
    }
    let cut = &slug[..max];
    match cut.rfind('-') {
        Some(i) if i > 0 => &cut[..i],
        _ => cut.trim_end_matches('-'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity() {
        assert!(is_valid("gaza-ceasefire-talks"));
        assert!(is_valid("covid-19"));
        assert!(!is_valid("2024"));
        assert!(!is_valid("Gaza"));
        assert!(!is_valid("a--b"));
        assert!(!is_valid("-a"));
        assert!(!is_valid(""));
        assert!(!is_valid(&"a".repeat(201)));
    }

    #[test]
    fn spanish_titles_lose_their_accents() {
        assert_eq!(
            slugify("La educación en España, ¿mejora?", "article"),
            "la-educacion-en-espana-mejora"
        );
    }

    #[test]
    fn arabic_titles_become_readable_ascii() {
        assert_eq!(
            slugify("الشرق الأوسط: مصر", "article"),
            "al-shrq-al-awst-msr"
        );
        assert_eq!(
            slugify("استئناف محادثات وقف إطلاق النار في القاهرة", "article"),
            "astynaf-mhadthat-wqf-itlaq-al-nar-fy-al-qahra"
        );
        assert_eq!(slugify("مُحَمَّد", "author"), "mhmd");
    }

    #[test]
    fn digits_and_symbols_get_the_kind() {
        assert_eq!(slugify("2024", "tag"), "tag-2024");
        assert_eq!(slugify("!!!", "tag"), "tag");
    }

    #[test]
    fn long_titles_are_cut_at_a_word() {
        let slug = slugify(&"word ".repeat(100), "article");
        assert!(slug.len() <= MAX_SLUG_LEN - SUFFIX_ROOM);
        assert!(is_valid(&slug));
    }

    #[test]
    fn collisions_get_a_number() {
        let taken = vec!["news".to_owned(), "news-2".to_owned()];
        assert_eq!(first_free("news", &taken), "news-3");
        assert_eq!(first_free("sport", &taken), "sport");
    }
}
