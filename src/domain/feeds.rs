//! RSS 2.0 feeds and sitemaps, written with quick-xml: the newest published articles
//! per language, section or tag, every published article for search engines, and the
//! last 48 hours in the news-sitemap format.

use std::collections::HashMap;
use std::io;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::articles::{Article, ArticleHead, Relations, visible_to_readers};
use super::input::xml_safe;
use super::media::MediaKind;
use super::time::Timestamp;
use super::{Key, counts, sections, tags};
use crate::config::Config;
use crate::db::{DbConn, Scope, Written, dialect};
use crate::error::{AppError, AppResult};
use crate::schema::{article_tags, articles, sections as sections_t};

/// Items in a feed.
pub const FEED_ITEMS: i64 = 50;
/// URLs in a news sitemap (the news-sitemap format's limit).
pub const NEWS_SITEMAP_URLS: i64 = 1_000;
/// How far back the news sitemap reaches.
pub const NEWS_WINDOW_HOURS: i64 = 48;

const NS_ATOM: &str = "http://www.w3.org/2005/Atom";
const NS_DC: &str = "http://purl.org/dc/elements/1.1/";
const NS_CONTENT: &str = "http://purl.org/rss/1.0/modules/content/";
const NS_MEDIA: &str = "http://search.yahoo.com/mrss/";
const NS_SITEMAP: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
const NS_NEWS: &str = "http://www.google.com/schemas/sitemap-news/0.9";
const NS_XHTML: &str = "http://www.w3.org/1999/xhtml";

/// The public addresses feeds, sitemaps and article `url`s link to.
#[derive(Debug, Clone)]
pub struct Site {
    pub base: String,
    pub name: String,
    /// `ARTICLE_URL_TEMPLATE`, split once into text and placeholders.
    pieces: Vec<Piece>,
}

/// A part of the article URL template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Lang,
    Section,
    Slug,
    Id,
    Year,
    Month,
    Day,
}

impl Site {
    /// The site as configured (`PUBLIC_BASE_URL`, `ARTICLE_URL_TEMPLATE`,
    /// `PUBLICATION_NAME`).
    pub fn of(config: &Config) -> Self {
        Self::new(
            &config.public_base_url,
            &config.article_url_template,
            &config.publication_name,
        )
    }

    /// A site at `base` whose article URLs follow `template`.
    pub fn new(base: &str, template: &str, name: &str) -> Self {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let placeholder = rest[open..]
                .find('}')
                .map(|close| &rest[open..=open + close]);
            let piece = match placeholder {
                Some("{base}") => Some(Piece::Text(base.to_owned())),
                Some("{lang}") => Some(Piece::Lang),
                Some("{section}") => Some(Piece::Section),
                Some("{slug}") => Some(Piece::Slug),
                Some("{id}") => Some(Piece::Id),
                Some("{yyyy}") => Some(Piece::Year),
                Some("{mm}") => Some(Piece::Month),
                Some("{dd}") => Some(Piece::Day),
                _ => None,
            };
            match (piece, placeholder) {
                (Some(piece), Some(p)) => {
                    text.push_str(&rest[..open]);
                    match piece {
                        Piece::Text(t) => text.push_str(&t),
                        other => {
                            pieces.push(Piece::Text(std::mem::take(&mut text)));
                            pieces.push(other);
                        }
                    }
                    rest = &rest[open + p.len()..];
                }
                _ => {
                    text.push_str(&rest[..=open]);
                    rest = &rest[open + 1..];
                }
            }
        }
        text.push_str(rest);
        pieces.push(Piece::Text(text));
        pieces.retain(|p| *p != Piece::Text(String::new()));
        Self {
            base: base.to_owned(),
            name: name.to_owned(),
            pieces,
        }
    }

    /// The public URL of an article. Without a section, the `{section}` segment is left
    /// out; `{yyyy}`, `{mm}` and `{dd}` are of `date` (its `published_at`) in UTC.
    pub fn article_url(
        &self,
        lang: &str,
        section: Option<&str>,
        slug: &str,
        id: i32,
        date: chrono::NaiveDateTime,
    ) -> String {
        use chrono::Datelike;
        use std::fmt::Write;
        let mut url = String::with_capacity(96 + slug.len());
        for piece in &self.pieces {
            // Writing to a String cannot fail.
            let _ = match piece {
                Piece::Text(t) => {
                    url.push_str(t);
                    Ok(())
                }
                Piece::Lang => {
                    url.push_str(lang);
                    Ok(())
                }
                Piece::Section => {
                    match section {
                        Some(s) => url.push_str(s),
                        // No section: the segment goes with the slash before it.
                        None => {
                            if url.ends_with('/') {
                                url.pop();
                            }
                        }
                    }
                    Ok(())
                }
                Piece::Slug => {
                    url.push_str(slug);
                    Ok(())
                }
                Piece::Id => write!(url, "{id}"),
                Piece::Year => write!(url, "{:04}", date.year()),
                Piece::Month => write!(url, "{:02}", date.month()),
                Piece::Day => write!(url, "{:02}", date.day()),
            };
        }
        url
    }
}

/// What a feed lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedScope {
    /// Every published article in the language.
    Language,
    /// A section (with its child sections), by slug.
    Section(String),
    /// A tag, by slug.
    Tag(String),
}

fn xml_error(e: io::Error) -> AppError {
    AppError::internal(format!("cannot write XML: {e}"))
}

fn rfc2822(t: Timestamp) -> String {
    t.0.and_utc().to_rfc2822()
}

/// Writes `<name>value</name>`. Every value from the database or the request goes
/// through [`xml_safe`] (here and in attributes), so one character stored before the
/// text rule existed cannot make a document unreadable.
fn text<W: io::Write>(w: &mut Writer<W>, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(&xml_safe(value)))?;
    Ok(())
}

/// An RSS 2.0 feed of the newest published articles of `lang` in `scope`; 404 when the
/// section or tag does not exist.
pub fn feed(
    conn: &mut DbConn,
    site: &Site,
    lang: &str,
    scope: &FeedScope,
    self_path: &str,
) -> AppResult<Vec<u8>> {
    let now = Timestamp::now().0;
    let mut query = articles::table
        .filter(visible_to_readers(now))
        .filter(articles::language.eq(lang.to_owned()))
        .select((ArticleHead::as_select(), articles::body_html))
        .into_boxed();
    let title = match scope {
        FeedScope::Language => site.name.clone(),
        FeedScope::Section(slug) => {
            let section = sections::get_in(conn, &Key::Slug(slug.clone()), Some(lang))?;
            let ids = sections::with_descendants(conn, &[section.id])?;
            query = query.filter(articles::section_id.eq_any(ids));
            format!("{}: {}", site.name, section.name)
        }
        FeedScope::Tag(slug) => {
            let tag = tags::get_in(conn, &Key::Slug(slug.clone()), Some(lang))?;
            query = query.filter(diesel::dsl::exists(
                article_tags::table
                    .filter(article_tags::article_id.eq(articles::id))
                    .filter(article_tags::tag_id.eq(tag.id)),
            ));
            format!("{}: {}", site.name, tag.name)
        }
    };
    let rows: Vec<(ArticleHead, String)> = query
        .order((articles::published_at.desc(), articles::id.desc()))
        .limit(FEED_ITEMS)
        .load(conn)?;
    let heads: Vec<ArticleHead> = rows.iter().map(|(h, _)| h.clone()).collect();
    let relations = Relations::load(conn, &heads, site)?;
    let items: Vec<Article> = rows
        .into_iter()
        .map(|(head, html)| relations.view(head, Some((String::new(), html)), now))
        .collect();
    write_feed(site, lang, &title, self_path, &items).map_err(xml_error)
}

fn write_feed(
    site: &Site,
    lang: &str,
    title: &str,
    self_path: &str,
    items: &[Article],
) -> io::Result<Vec<u8>> {
    let mut w = Writer::new(Vec::with_capacity(64 * 1024));
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("rss")
        .with_attribute(("version", "2.0"))
        .with_attribute(("xmlns:atom", NS_ATOM))
        .with_attribute(("xmlns:dc", NS_DC))
        .with_attribute(("xmlns:content", NS_CONTENT))
        .with_attribute(("xmlns:media", NS_MEDIA))
        .write_inner_content(|w| {
            w.create_element("channel").write_inner_content(|w| {
                text(w, "title", title)?;
                text(w, "link", &format!("{}/{lang}", site.base))?;
                text(w, "description", &format!("{title}: the latest stories"))?;
                text(w, "language", lang)?;
                text(w, "generator", "newsdesk")?;
                let self_url = format!("{}{self_path}", site.base);
                w.create_element("atom:link")
                    .with_attribute(("href", &*xml_safe(&self_url)))
                    .with_attribute(("rel", "self"))
                    .with_attribute(("type", "application/rss+xml"))
                    .write_empty()?;
                // The newest change among the items: stable while nothing changes, so
                // the feed's ETag is too.
                if let Some(built) = items.iter().map(|a| a.updated_at).max() {
                    text(w, "lastBuildDate", &rfc2822(built))?;
                }
                for article in items {
                    write_item(w, article)?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
    Ok(w.into_inner())
}

fn write_item<W: io::Write>(w: &mut Writer<W>, a: &Article) -> io::Result<()> {
    let link = &a.url;
    w.create_element("item").write_inner_content(|w| {
        text(w, "title", &a.title)?;
        text(w, "link", link)?;
        w.create_element("guid")
            .with_attribute(("isPermaLink", "true"))
            .write_text_content(BytesText::new(&xml_safe(link)))?;
        if let Some(published) = a.published_at {
            text(w, "pubDate", &rfc2822(published))?;
        }
        // When the story last changed (an edit, a correction): RSS has no element of
        // its own for it, Atom's is read by feed readers.
        text(w, "atom:updated", &a.updated_at.to_rfc3339())?;
        if let Some(summary) = &a.summary {
            text(w, "description", summary)?;
        }
        for author in &a.authors {
            text(w, "dc:creator", &author.name)?;
        }
        if let Some(s) = &a.section {
            text(w, "category", &s.name)?;
        }
        for tag in &a.tags {
            text(w, "category", &tag.name)?;
        }
        if let Some(html) = &a.body_html {
            text(w, "content:encoded", html)?;
        }
        if let Some(m) = &a.hero_media {
            // Media RSS's own `medium` words.
            let medium = match m.kind {
                MediaKind::Video => "video",
                MediaKind::Image | MediaKind::Audio | MediaKind::Embed => "image",
            };
            let width = m.width.map(|v| v.to_string());
            let height = m.height.map(|v| v.to_string());
            let mut el = w
                .create_element("media:content")
                .with_attribute(("url", &*xml_safe(&m.url)))
                .with_attribute(("medium", medium));
            if let Some(t) = &m.mime_type {
                el = el.with_attribute(("type", &*xml_safe(t)));
            }
            if let Some(v) = &width {
                el = el.with_attribute(("width", v.as_str()));
            }
            if let Some(v) = &height {
                el = el.with_attribute(("height", v.as_str()));
            }
            el.write_inner_content(|w| {
                if let Some(caption) = &m.caption {
                    w.create_element("media:description")
                        .with_attribute(("type", "plain"))
                        .write_text_content(BytesText::new(&xml_safe(caption)))?;
                }
                if let Some(credit) = &m.credit {
                    text(w, "media:credit", credit)?;
                }
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok(())
}

/// `(id, slug, language, section, updated_at, published_at, title, translation group)`.
type Entry = (
    i32,
    String,
    String,
    Option<i32>,
    chrono::NaiveDateTime,
    Option<chrono::NaiveDateTime>,
    String,
    Option<i32>,
);

/// `(id, slug, language, section, updated_at, published_at, translation group)`, the
/// times in Unix seconds: what a child sitemap reads of each article in its block.
type ChildEntry = (
    i32,
    String,
    String,
    Option<i32>,
    i64,
    Option<i64>,
    Option<i32>,
);

/// The columns of an [`Entry`].
const ENTRY: (
    articles::id,
    articles::slug,
    articles::language,
    articles::section_id,
    articles::updated_at,
    articles::published_at,
    articles::title,
    articles::translation_group,
) = (
    articles::id,
    articles::slug,
    articles::language,
    articles::section_id,
    articles::updated_at,
    articles::published_at,
    articles::title,
    articles::translation_group,
);

fn section_slugs(conn: &mut DbConn) -> AppResult<HashMap<i32, String>> {
    Ok(sections_t::table
        .select((sections_t::id, sections_t::slug))
        .load::<(i32, String)>(conn)?
        .into_iter()
        .collect())
}

fn entries(
    conn: &mut DbConn,
    since: Option<chrono::NaiveDateTime>,
    limit: i64,
) -> AppResult<(Vec<Entry>, HashMap<i32, String>)> {
    let now = Timestamp::now().0;
    let mut query = articles::table
        .filter(visible_to_readers(now))
        .select(ENTRY)
        .into_boxed();
    if let Some(since) = since {
        query = query.filter(articles::published_at.ge(since));
    }
    let rows: Vec<Entry> = query
        .order((articles::published_at.desc(), articles::id.desc()))
        .limit(limit)
        .load(conn)?;
    Ok((rows, section_slugs(conn)?))
}

fn w3c(t: chrono::NaiveDateTime) -> String {
    Timestamp(t).to_rfc3339()
}

/// The setting that keeps the public base and article address template of the last
/// start.
const ADDRESSES_KEY: &str = "sitemap_addresses";

/// Notes, at start, the public base (`PUBLIC_BASE_URL`) and article address template
/// (`ARTICLE_URL_TEMPLATE`) the sitemaps are written with. When they differ from the
/// last start's, every address in every child sitemap may have changed, so every block's
/// change time moves (the children's `<lastmod>` in the index); the first start that
/// keeps them only notes them. True when the times moved.
pub fn note_addresses(conn: &mut DbConn, base: &str, template: &str) -> AppResult<Written<bool>> {
    let now = format!("{base}\n{template}");
    let before = crate::domain::settings::get(conn, ADDRESSES_KEY)?;
    if before.as_deref() == Some(now.as_str()) {
        return Ok(Written::unseen(false));
    }
    crate::domain::settings::set(conn, ADDRESSES_KEY, &now)?;
    if before.is_none() {
        return Ok(Written::unseen(false));
    }
    counts::touch_every_block(conn, Timestamp::now().0)?;
    Ok(Written::content(true, Scope::All))
}

/// The address of child sitemap `n` (1, 2, …), on the public site's base.
pub fn sitemap_child_url(site: &Site, n: i32) -> String {
    format!(
        "{}/sitemaps/articles-{n}.xml",
        site.base.trim_end_matches('/')
    )
}

/// A feed's bytes and, where it is known, when what they say last changed.
pub struct Dated {
    pub xml: Vec<u8>,
    pub changed: Option<Timestamp>,
}

/// `/sitemap.xml`: a sitemap index naming one child sitemap per block of
/// [`counts::BLOCK_SIZE`] article ids that holds a published story, each with the time
/// its list last changed as `<lastmod>` (from the maintained counts and block times:
/// nothing is scanned); dated by the latest change of any block.
pub fn sitemap_index(conn: &mut DbConn, site: &Site) -> AppResult<Dated> {
    let counts::SitemapBlocks {
        listed: blocks,
        latest,
    } = counts::sitemap_blocks(conn, Timestamp::now().0)?;
    let write = || -> io::Result<Vec<u8>> {
        let mut w = Writer::new(Vec::with_capacity(blocks.len() * 96 + 256));
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("sitemapindex")
            .with_attribute(("xmlns", NS_SITEMAP))
            .write_inner_content(|w| {
                for (block, changed) in &blocks {
                    w.create_element("sitemap").write_inner_content(|w| {
                        text(w, "loc", &sitemap_child_url(site, block + 1))?;
                        if let Some(at) = changed.and_then(Timestamp::from_unix) {
                            // Digits, `-`, `:`, `T` and `Z`: nothing to escape.
                            w.create_element("lastmod")
                                .write_text_content(BytesText::from_escaped(at.to_rfc3339()))?;
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        Ok(w.into_inner())
    };
    Ok(Dated {
        xml: write().map_err(xml_error)?,
        changed: latest.and_then(Timestamp::from_unix),
    })
}

/// `/sitemaps/articles-{n}.xml`: the published articles whose ids fall in block `n`
/// (ids `(n-1)·2,500 + 1` to `n·2,500`, so never more than the protocol's 50,000
/// URLs), oldest id first, each with its other editions as `xhtml:link rel="alternate"
/// hreflang`, dated by the block's time (as the index's `<lastmod>` says). `None` when
/// the block holds no published article.
pub fn sitemap_child(conn: &mut DbConn, site: &Site, n: i32) -> AppResult<Option<Dated>> {
    if !(1..=i32::MAX / counts::BLOCK_SIZE).contains(&n) {
        return Ok(None);
    }
    let now = Timestamp::now().0;
    // Read before the list: a write between the two then dates the list too early,
    // which costs a crawler one fetch more, never a change missed.
    let changed = counts::block_changed(conn, n - 1, now)?.and_then(Timestamp::from_unix);
    let first = (n - 1) * counts::BLOCK_SIZE + 1;
    let last = n * counts::BLOCK_SIZE;
    // Only columns of `articles_sitemap_idx` (SQLite): a cold child reads that narrow
    // index, not 2,500 whole rows with their bodies.
    let rows: Vec<ChildEntry> = articles::table
        .filter(visible_to_readers(now))
        .filter(articles::id.between(first, last))
        .select((
            articles::id,
            articles::slug,
            articles::language,
            articles::section_id,
            dialect::unix_seconds::<BigInt>(conn, dialect::UnixColumn::UpdatedAt),
            dialect::unix_seconds::<Nullable<BigInt>>(conn, dialect::UnixColumn::PublishedAt),
            articles::translation_group,
        ))
        .order(articles::id)
        .load(conn)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let section_slugs = section_slugs(conn)?;
    let url = |id: i32, slug: &str, lang: &str, section: Option<i32>, date| {
        let section = section
            .and_then(|s| section_slugs.get(&s))
            .map(String::as_str);
        site.article_url(lang, section, slug, id, date)
    };
    let url_of = |e: &Entry| url(e.0, &e.1, &e.2, e.3, e.5.unwrap_or(e.4));
    // Every published edition of the groups in this block, wherever its id falls.
    let mut group_ids: Vec<i32> = rows.iter().filter_map(|e| e.6).collect();
    group_ids.sort_unstable();
    group_ids.dedup();
    let mut groups: HashMap<i32, Vec<(String, String)>> = HashMap::new();
    for chunk in group_ids.chunks(1000) {
        let editions: Vec<Entry> = articles::table
            .filter(visible_to_readers(now))
            .filter(articles::translation_group.eq_any(chunk))
            .select(ENTRY)
            .order(articles::id)
            .load(conn)?;
        for e in &editions {
            if let Some(g) = e.7 {
                groups.entry(g).or_default().push((e.2.clone(), url_of(e)));
            }
        }
    }
    let write = || -> io::Result<Vec<u8>> {
        let mut w = Writer::new(Vec::with_capacity(rows.len() * 160 + 256));
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("urlset")
            .with_attribute(("xmlns", NS_SITEMAP))
            .with_attribute(("xmlns:xhtml", NS_XHTML))
            .write_inner_content(|w| {
                for e in &rows {
                    w.create_element("url").write_inner_content(|w| {
                        let updated = Timestamp::from_unix(e.4)
                            .unwrap_or(Timestamp(chrono::DateTime::UNIX_EPOCH.naive_utc()));
                        let published = e.5.and_then(Timestamp::from_unix).unwrap_or(updated);
                        text(w, "loc", &url(e.0, &e.1, &e.2, e.3, published.0))?;
                        // Digits, `-`, `:`, `T` and `Z`: nothing to escape.
                        w.create_element("lastmod")
                            .write_text_content(BytesText::from_escaped(updated.to_rfc3339()))?;
                        let editions = e.6.and_then(|g| groups.get(&g));
                        for (lang, href) in editions.into_iter().flatten() {
                            if editions.is_some_and(|list| list.len() > 1) {
                                w.create_element("xhtml:link")
                                    .with_attribute(("rel", "alternate"))
                                    .with_attribute(("hreflang", &*xml_safe(lang)))
                                    .with_attribute(("href", &*xml_safe(href)))
                                    .write_empty()?;
                            }
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        Ok(w.into_inner())
    };
    Ok(Some(Dated {
        xml: write().map_err(xml_error)?,
        changed,
    }))
}

/// `/sitemap-news.xml`: articles published in the last 48 hours, in the news-sitemap
/// format.
pub fn news_sitemap(conn: &mut DbConn, site: &Site) -> AppResult<Vec<u8>> {
    let since = Timestamp::now().0 - chrono::Duration::hours(NEWS_WINDOW_HOURS);
    let (rows, section_slugs) = entries(conn, Some(since), NEWS_SITEMAP_URLS)?;
    let write = || -> io::Result<Vec<u8>> {
        let mut w = Writer::new(Vec::with_capacity(rows.len() * 400 + 256));
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("urlset")
            .with_attribute(("xmlns", NS_SITEMAP))
            .with_attribute(("xmlns:news", NS_NEWS))
            .write_inner_content(|w| {
                for e in &rows {
                    let section = e.3.and_then(|s| section_slugs.get(&s)).map(String::as_str);
                    let loc = site.article_url(&e.2, section, &e.1, e.0, e.5.unwrap_or(e.4));
                    w.create_element("url").write_inner_content(|w| {
                        text(w, "loc", &loc)?;
                        w.create_element("news:news").write_inner_content(|w| {
                            w.create_element("news:publication")
                                .write_inner_content(|w| {
                                    text(w, "news:name", &site.name)?;
                                    text(w, "news:language", &e.2)
                                })?;
                            if let Some(published) = e.5 {
                                text(w, "news:publication_date", &w3c(published))?;
                            }
                            text(w, "news:title", &e.6)
                        })?;
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        Ok(w.into_inner())
    };
    write().map_err(xml_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(template: &str) -> Site {
        Site::new("https://news.example", template, "Example Daily")
    }

    #[test]
    fn article_urls_follow_the_template() {
        let day = chrono::NaiveDate::from_ymd_opt(2024, 3, 9)
            .unwrap()
            .and_hms_opt(23, 30, 0)
            .unwrap();
        let s = site("{base}/{lang}/{section}/{slug}");
        assert_eq!(
            s.article_url("ar", Some("world"), "a-story", 7, day),
            "https://news.example/ar/world/a-story"
        );
        assert_eq!(
            s.article_url("es", None, "a-story", 7, day),
            "https://news.example/es/a-story"
        );
        let s = site("https://cdn.example/a/{id}?lang={lang}");
        assert_eq!(
            s.article_url("en", None, "x", 42, day),
            "https://cdn.example/a/42?lang=en"
        );
        let s = site("{base}/{yyyy}/{mm}/{dd}/{slug}");
        assert_eq!(
            s.article_url("en", None, "x", 42, day),
            "https://news.example/2024/03/09/x"
        );
    }

    #[test]
    fn text_is_escaped() {
        let mut w = Writer::new(Vec::new());
        text(&mut w, "title", "Fish & <chips>").unwrap();
        assert_eq!(
            String::from_utf8(w.into_inner()).unwrap(),
            "<title>Fish &amp; &lt;chips&gt;</title>"
        );
    }

    #[test]
    fn characters_xml_forbids_become_replacement_characters() {
        let mut w = Writer::new(Vec::new());
        text(&mut w, "title", "a\u{FFFF}b\u{1}c\u{200F}").unwrap();
        assert_eq!(
            String::from_utf8(w.into_inner()).unwrap(),
            "<title>a\u{FFFD}b\u{FFFD}c\u{200F}</title>"
        );
    }
}
