//! `newsdesk seed --articles N`: many realistic synthetic articles, fast, for benchmarks.
//!
//! Bodies are 2–4 KB of Markdown built from a pool of generated paragraphs. Each
//! paragraph is rendered and sanitized once; an article's `body_html` is the
//! concatenation of its paragraphs' HTML, which is exactly what rendering the whole
//! body gives (paragraphs and headings are independent blocks; a test checks it).
//! Rows go in with multi-row inserts inside large transactions.

use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::columns::StoredStatus;
use crate::db::{Db, DbConn, Scope, Written, sqlite};
use crate::domain::media::MediaKind;
use crate::domain::time::Timestamp;
use crate::domain::{counts, markdown, search, slug};
use crate::error::AppResult;
use crate::schema::{
    article_authors, article_regions, article_tags, articles, authors, media, tags,
};

/// Bylines in the corpus.
pub const AUTHORS: usize = 50;
/// Tags in the corpus.
pub const TAGS: usize = 30;
const IMAGES: usize = 100;
/// Articles per transaction at most.
const BATCH: usize = 50_000;
/// Text (body, HTML and search text) per transaction at most: 128 MB.
const BATCH_TEXT_BYTES: usize = 128 << 20;
/// The seed's page cache on SQLite (256 MB): what bounds its memory.
const SEED_CACHE_KIB: u32 = 256 * 1024;
/// Rows per INSERT statement (SQLite allows 32,766 bound values).
const ROWS_PER_STATEMENT: usize = 500;
const PARAGRAPHS_PER_LANGUAGE: usize = 48;

const FIRST: &[&str] = &[
    "Amina", "Jonas", "Sofia", "Tariq", "Elena", "Kwame", "Nour", "Mateo", "Priya", "Yusuf",
];
const LAST: &[&str] = &["Rahman", "Costa", "Mensah", "Haddad", "Lindqvist"];
const TOPICS: &[&str] = &[
    "Water",
    "Housing",
    "Transport",
    "Schools",
    "Wages",
    "Drought",
    "Trade",
    "Borders",
    "Courts",
    "Media",
    "Farming",
    "Fisheries",
    "Tourism",
    "Mining",
    "Ports",
    "Rail",
    "Aviation",
    "Banking",
    "Pensions",
    "Taxes",
    "Vaccines",
    "Hospitals",
    "Universities",
    "Elections",
    "Parliament",
    "Police",
    "Prisons",
    "Wildlife",
    "Forests",
    "Rivers",
];
const PLACES: &[&str] = &[
    "Lagos", "Cairo", "Lima", "Dhaka", "Nairobi", "Madrid", "Amman", "Manila", "Quito", "Tunis",
    "Accra", "Bogotá", "Doha", "Beirut", "Dakar", "Karachi",
];

struct Words {
    subjects: &'static [&'static str],
    verbs: &'static [&'static str],
    objects: &'static [&'static str],
    tails: &'static [&'static str],
    headings: &'static [&'static str],
    connector: &'static str,
}

const EN: Words = Words {
    subjects: &[
        "Officials",
        "Residents",
        "Analysts",
        "Lawmakers",
        "Farmers",
        "Doctors",
        "Teachers",
        "Investors",
        "Engineers",
        "Students",
    ],
    verbs: &[
        "weigh",
        "question",
        "welcome",
        "reject",
        "debate",
        "prepare for",
        "push back on",
        "study",
        "delay",
        "back",
    ],
    objects: &[
        "new water rules",
        "a revised budget",
        "the rail extension",
        "higher port fees",
        "a housing plan",
        "the grain deal",
        "emergency funding",
        "a pension reform",
        "the border agreement",
        "a climate levy",
    ],
    tails: &[
        "after months of talks",
        "ahead of the vote",
        "as prices rise",
        "despite protests",
        "following the floods",
        "under pressure from donors",
        "before the summer",
        "amid a heatwave",
    ],
    headings: &[
        "Background",
        "What officials say",
        "Reaction",
        "What happens next",
        "The numbers",
    ],
    connector: "in",
};

const AR: Words = Words {
    subjects: &[
        "المسؤولون",
        "السكان",
        "المحللون",
        "النواب",
        "المزارعون",
        "الأطباء",
        "المعلمون",
        "المستثمرون",
        "المهندسون",
        "الطلاب",
    ],
    verbs: &[
        "يدرسون",
        "ينتقدون",
        "يرحبون بـ",
        "يرفضون",
        "يناقشون",
        "يستعدون لـ",
        "يعترضون على",
        "يراجعون",
        "يؤجلون",
        "يدعمون",
    ],
    objects: &[
        "قواعد المياه الجديدة",
        "الميزانية المعدلة",
        "توسعة السكك الحديدية",
        "رسوم الموانئ",
        "خطة الإسكان",
        "اتفاق الحبوب",
        "التمويل الطارئ",
        "إصلاح المعاشات",
        "اتفاق الحدود",
        "ضريبة المناخ",
    ],
    tails: &[
        "بعد أشهر من المحادثات",
        "قبل التصويت",
        "مع ارتفاع الأسعار",
        "رغم الاحتجاجات",
        "في أعقاب الفيضانات",
        "تحت ضغط المانحين",
        "قبل الصيف",
        "وسط موجة حر",
    ],
    headings: &[
        "خلفية",
        "ماذا يقول المسؤولون",
        "ردود الفعل",
        "ما الخطوة التالية",
        "بالأرقام",
    ],
    connector: "في",
};

const ES: Words = Words {
    subjects: &[
        "Las autoridades",
        "Los vecinos",
        "Los analistas",
        "Los diputados",
        "Los agricultores",
        "Los médicos",
        "Los docentes",
        "Los inversores",
        "Los ingenieros",
        "Los estudiantes",
    ],
    verbs: &[
        "estudian",
        "cuestionan",
        "celebran",
        "rechazan",
        "debaten",
        "se preparan para",
        "se oponen a",
        "revisan",
        "aplazan",
        "respaldan",
    ],
    objects: &[
        "las nuevas normas del agua",
        "un presupuesto revisado",
        "la ampliación del tren",
        "las tasas portuarias",
        "un plan de vivienda",
        "el acuerdo del grano",
        "la financiación de emergencia",
        "la reforma de las pensiones",
        "el acuerdo fronterizo",
        "un impuesto climático",
    ],
    tails: &[
        "tras meses de negociación",
        "antes de la votación",
        "mientras suben los precios",
        "pese a las protestas",
        "después de las inundaciones",
        "bajo la presión de los donantes",
        "antes del verano",
        "en plena ola de calor",
    ],
    headings: &[
        "Contexto",
        "Qué dicen las autoridades",
        "Reacciones",
        "Qué viene ahora",
        "Las cifras",
    ],
    connector: "en",
};

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn sentence(rng: &mut StdRng, w: &Words) -> String {
    format!(
        "{} {} {} {} {} {}.",
        pick(rng, w.subjects),
        pick(rng, w.verbs),
        pick(rng, w.objects),
        w.connector,
        pick(rng, PLACES),
        pick(rng, w.tails)
    )
}

/// A paragraph of Markdown with its rendered HTML and word count.
struct Block {
    markdown: String,
    html: String,
    /// The text as the search index holds it.
    indexed: String,
    words: usize,
}

impl Block {
    fn new(markdown: String) -> Self {
        let html = markdown::to_safe_html(&markdown);
        let plain = markdown::plain_text(&markdown);
        let words = markdown::word_count(&plain);
        Self {
            markdown,
            html,
            indexed: search::normalize(&plain),
            words,
        }
    }
}

struct Pool {
    paragraphs: Vec<Block>,
    headings: Vec<Block>,
}

fn pool(rng: &mut StdRng, w: &Words) -> Pool {
    let paragraphs = (0..PARAGRAPHS_PER_LANGUAGE)
        .map(|_| {
            let n = rng.random_range(4..=6);
            Block::new(
                (0..n)
                    .map(|_| sentence(rng, w))
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })
        .collect();
    let headings = w
        .headings
        .iter()
        .map(|h| Block::new(format!("## {h}")))
        .collect();
    Pool {
        paragraphs,
        headings,
    }
}

/// An article body assembled from pool blocks.
struct Assembled {
    markdown: String,
    html: String,
    indexed: String,
    words: usize,
}

/// A body of 6 to 9 paragraphs with a subheading, or with `body_words`, whole
/// paragraphs up to at least that many words (a short archive story).
fn assemble(rng: &mut StdRng, pool: &Pool, body_words: Option<usize>) -> Assembled {
    let mut blocks: Vec<&Block> = Vec::new();
    match body_words {
        None => {
            let count = rng.random_range(6..=9);
            for i in 0..count {
                if i == count / 2 {
                    blocks.push(pick(rng, &pool.headings));
                }
                blocks.push(pick(rng, &pool.paragraphs));
            }
        }
        Some(target) => {
            let mut words = 0;
            while words < target.max(1) {
                let paragraph = pick(rng, &pool.paragraphs);
                words += paragraph.words;
                blocks.push(paragraph);
            }
        }
    }
    let markdown = blocks
        .iter()
        .map(|b| b.markdown.as_str())
        .collect::<Vec<_>>()
        .join("\n\n");
    let html: String = blocks.iter().map(|b| b.html.as_str()).collect();
    let indexed = blocks
        .iter()
        .map(|b| b.indexed.as_str())
        .collect::<Vec<_>>()
        .join("\n\n");
    let words = blocks.iter().map(|b| b.words).sum();
    Assembled {
        markdown,
        html,
        indexed,
        words,
    }
}

fn ensure_named<F>(
    conn: &mut DbConn,
    wanted: usize,
    existing: Vec<i32>,
    mut create: F,
) -> AppResult<Vec<i32>>
where
    F: FnMut(&mut DbConn, usize) -> AppResult<i32>,
{
    let mut ids = existing;
    while ids.len() < wanted {
        let id = create(conn, ids.len())?;
        ids.push(id);
    }
    ids.truncate(wanted);
    Ok(ids)
}

/// Bylines, tags and images the corpus uses, created when missing.
fn ensure_people_and_things(conn: &mut DbConn) -> AppResult<(Vec<i32>, Vec<i32>, Vec<i32>)> {
    let now = Timestamp::now().0;
    let existing: Vec<i32> = authors::table
        .filter(authors::slug.like("corpus-%"))
        .select(authors::id)
        .load(conn)?;
    let author_ids = ensure_named(conn, AUTHORS, existing, |conn, i| {
        let name = format!(
            "{} {}",
            FIRST[i % FIRST.len()],
            LAST[i / FIRST.len() % LAST.len()]
        );
        Ok(diesel::insert_into(authors::table)
            .values((
                authors::slug.eq(format!("corpus-{}", slug::slugify(&name, "author"))),
                authors::name.eq(&name),
                authors::links.eq("{}"),
                authors::created_at.eq(now),
                authors::updated_at.eq(now),
            ))
            .returning(authors::id)
            .get_result(conn)?)
    })?;
    let existing: Vec<i32> = tags::table
        .filter(tags::slug.like("corpus-%"))
        .select(tags::id)
        .load(conn)?;
    let tag_ids = ensure_named(conn, TAGS, existing, |conn, i| {
        let name = TOPICS[i % TOPICS.len()];
        Ok(diesel::insert_into(tags::table)
            .values((
                tags::slug.eq(format!("corpus-{}", slug::slugify(name, "tag"))),
                tags::name.eq(name),
                tags::created_at.eq(now),
                tags::updated_at.eq(now),
            ))
            .returning(tags::id)
            .get_result(conn)?)
    })?;
    let existing: Vec<i32> = media::table
        .filter(media::url.like("https://images.example.com/corpus/%"))
        .select(media::id)
        .load(conn)?;
    let media_ids = ensure_named(conn, IMAGES, existing, |conn, i| {
        Ok(diesel::insert_into(media::table)
            .values((
                media::kind.eq(MediaKind::Image),
                media::url.eq(format!("https://images.example.com/corpus/{i:03}.jpg")),
                media::mime_type.eq("image/jpeg"),
                media::width.eq(1600),
                media::height.eq(900),
                media::caption.eq(format!("A scene from {}.", PLACES[i % PLACES.len()])),
                media::credit.eq(["AP", "AFP", "Reuters", "Newsroom Staff"][i % 4]),
                media::language.eq("en"),
                media::created_at.eq(now),
                media::updated_at.eq(now),
            ))
            .returning(media::id)
            .get_result(conn)?)
    })?;
    Ok((author_ids, tag_ids, media_ids))
}

/// What a bulk run did.
#[derive(Debug, Clone, Copy)]
pub struct BulkSummary {
    pub articles: usize,
    pub seconds: f64,
}

/// Everything one synthetic article needs.
struct Planned {
    slug: String,
    language: &'static str,
    title: String,
    summary: String,
    section: i32,
    media: i32,
    featured: bool,
    published_at: chrono::NaiveDateTime,
    words: i32,
    body: String,
    html: String,
    /// What the search index gets: title, summary and body text, normalised.
    indexed_title: String,
    indexed_summary: String,
    indexed: String,
    tags: [i32; 3],
    authors: Vec<i32>,
    region: i32,
}

/// Adds `n` published articles spread over the past year; a third in Arabic and Spanish.
/// Runs on a blocking thread; each batch is one write transaction.
pub fn seed(db: &Db, n: usize, created_by: Option<i32>) -> AppResult<BulkSummary> {
    seed_with_history(db, n, 0, None, created_by)
}

/// [`seed`], each article with a synthetic history of `revisions` revisions (the first
/// is the create; then, in turn, a title fix, a summary change and a body update),
/// stored as edits store them: for sizing the database of a newsroom's archive. With
/// `body_words`, bodies are short: whole paragraphs up to at least that many words.
pub fn seed_with_history(
    db: &Db,
    n: usize,
    revisions: usize,
    body_words: Option<usize>,
    created_by: Option<i32>,
) -> AppResult<BulkSummary> {
    let started = std::time::Instant::now();
    let mut rng = StdRng::seed_from_u64(0x6e65_7773);
    let pools = [
        pool(&mut rng, &EN),
        pool(&mut rng, &AR),
        pool(&mut rng, &ES),
    ];
    let (sections, regions, author_ids, tag_ids, media_ids, first) =
        db.write_content_blocking(|conn| {
            let (sections, regions) = super::ensure_taxonomy(conn)?;
            let (authors, tags, media) = ensure_people_and_things(conn)?;
            let first: i64 = articles::table.count().get_result(conn)?;
            Ok(Written::content(
                (sections, regions, authors, tags, media, first),
                Scope::All,
            ))
        })?;
    let now = Timestamp::now().unix();
    // The articles are made on a thread of their own while the previous batch is
    // written: on two cores, making them (text, HTML, the search text) and writing them
    // each take about half of a seed's time.
    let (send, batches) = std::sync::mpsc::sync_channel::<Vec<Planned>>(1);
    let maker = std::thread::Builder::new()
        .name("seed-maker".into())
        .spawn(move || {
            let plan = Plan {
                n,
                first: first as usize,
                now,
                body_words,
                sections,
                regions,
                author_ids,
                tag_ids,
                media_ids,
            };
            let mut done = 0;
            while done < n {
                let batch = plan.batch(&mut rng, &pools, done);
                done += batch.len();
                if send.send(batch).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| crate::error::AppError::internal(format!("cannot start a thread: {e}")))?;
    // On SQLite, the seed writes on a connection of its own ([`Db::bulk_writer`]).
    // Each batch inserts into indexes spread over the whole file (slugs, titles, the
    // search index): with SQLite's default 2 MB of cache every insert re-read its pages
    // from the operating system, and a seed slowed as the file grew.
    let mut bulk = db.bulk_writer(SEED_CACHE_KIB)?;
    let write = |bulk: Option<&mut DbConn>| -> AppResult<()> {
        let Some(conn) = bulk else {
            for batch in batches {
                db.write_content_blocking(move |conn| {
                    let ids = insert_batch(conn, &batch, created_by)?;
                    if revisions > 0 {
                        insert_history(conn, &ids, &batch, revisions, created_by)?;
                    }
                    Ok(Written::content(ids.len(), Scope::All))
                })?;
            }
            return Ok(());
        };
        for batch in batches {
            sqlite::write_transaction(conn, |conn| {
                let ids = insert_batch(conn, &batch, created_by)?;
                if revisions > 0 {
                    insert_history(conn, &ids, &batch, revisions, created_by)?;
                }
                crate::db::freshness::bump(conn)?;
                Ok(())
            })?;
            // The WAL holds one batch at most.
            if let DbConn::Sqlite(c) = &mut *conn {
                sqlite::checkpoint_fully(c)?;
            }
        }
        Ok(())
    };
    match bulk.as_mut() {
        Some(conn) => sqlite::bulk_search_index(conn, |conn| write(Some(conn)))?,
        None => write(None)?,
    }
    maker
        .join()
        .map_err(|_| crate::error::AppError::internal("the seed's article maker panicked"))?;
    if bulk.is_some() {
        // Caches of this process (a test's server) learn of the new articles as they
        // would of any write; other processes see the counter the batches bumped.
        db.write_content_blocking(|_| Ok(Written::content((), Scope::All)))?;
    }
    db.settle_after_bulk_load()?;
    Ok(BulkSummary {
        articles: n,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What the article maker needs to plan every batch.
struct Plan {
    n: usize,
    first: usize,
    now: i64,
    body_words: Option<usize>,
    sections: Vec<i32>,
    regions: Vec<i32>,
    author_ids: Vec<i32>,
    tag_ids: Vec<i32>,
    media_ids: Vec<i32>,
}

impl Plan {
    /// The next batch from article `done` on: up to [`BATCH`] articles and
    /// [`BATCH_TEXT_BYTES`] of text, so memory stays flat whatever the body length.
    fn batch(&self, rng: &mut StdRng, pools: &[Pool; 3], done: usize) -> Vec<Planned> {
        let n = self.n;
        let year = 365 * 24 * 3600;
        let mut batch = Vec::with_capacity(BATCH.min(n - done));
        let mut bytes = 0;
        let mut i = done;
        while i < n && batch.len() < BATCH && bytes < BATCH_TEXT_BYTES {
            let which = i % 3;
            let (language, words) = match which {
                0 => ("en", &EN),
                1 => ("ar", &AR),
                _ => ("es", &ES),
            };
            let place = pick(rng, PLACES);
            let title = format!(
                "{} {} {} {} {}",
                pick(rng, words.subjects),
                pick(rng, words.verbs),
                pick(rng, words.objects),
                words.connector,
                place
            );
            let assembled = assemble(rng, &pools[which], self.body_words);
            let serial = self.first + i + 1;
            let mut tags = [0; 3];
            let start = rng.random_range(0..self.tag_ids.len());
            for (k, t) in tags.iter_mut().enumerate() {
                *t = self.tag_ids[(start + k * 7) % self.tag_ids.len()];
            }
            let first_author = rng.random_range(0..self.author_ids.len());
            let mut authors = vec![self.author_ids[first_author]];
            if rng.random_bool(0.4) {
                authors.push(self.author_ids[(first_author + 1) % self.author_ids.len()]);
            }
            let age = (n - i) as i64 * year / n.max(1) as i64;
            let summary = sentence(rng, words);
            let planned = Planned {
                slug: format!("{}-n{serial}", slug::slugify(&title, "article")),
                language,
                indexed_title: search::normalize(&title),
                indexed_summary: search::normalize(&summary),
                summary,
                title,
                section: *pick(rng, &self.sections),
                media: *pick(rng, &self.media_ids),
                featured: rng.random_bool(0.02),
                published_at: Timestamp::from_unix(self.now - age)
                    .map(|t| t.0)
                    .unwrap_or_default(),
                words: assembled.words as i32,
                body: assembled.markdown,
                html: assembled.html,
                indexed: assembled.indexed,
                tags,
                authors,
                region: *pick(rng, &self.regions),
            };
            bytes += planned.body.len() + planned.html.len() + planned.indexed.len();
            batch.push(planned);
            i += 1;
        }
        batch
    }
}

/// Slugs by id of one kind of named row.
fn slugs_of(conn: &mut DbConn, table: &str) -> AppResult<std::collections::HashMap<i32, String>> {
    #[derive(QueryableByName)]
    struct Named {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        id: i32,
        #[diesel(sql_type = diesel::sql_types::Text)]
        slug: String,
    }
    let rows: Vec<Named> = diesel::sql_query(format!("SELECT id, slug FROM {table}")).load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, r.slug)).collect())
}

/// Writes `revisions` revisions of each article of a batch just inserted.
fn insert_history(
    conn: &mut DbConn,
    ids: &[i32],
    batch: &[Planned],
    revisions: usize,
    by: Option<i32>,
) -> AppResult<()> {
    use crate::domain::articles::revisions::{self, NewRevision, RevisionFields};
    let sections = slugs_of(conn, "sections")?;
    let tags = slugs_of(conn, "tags")?;
    let authors = slugs_of(conn, "authors")?;
    let regions = slugs_of(conn, "regions")?;
    let name = |m: &std::collections::HashMap<i32, String>, id: &i32| {
        m.get(id).cloned().unwrap_or_default()
    };
    let who = (by, Some("Bulk seed".to_owned()));
    for (id, a) in ids.iter().zip(batch) {
        let mut fields = RevisionFields {
            slug: a.slug.clone(),
            language: a.language.to_owned(),
            title: a.title.clone(),
            summary: Some(a.summary.clone()),
            body: Some(a.body.clone()),
            section: Some(name(&sections, &a.section)),
            regions: vec![name(&regions, &a.region)],
            tags: a.tags.iter().map(|t| name(&tags, t)).collect(),
            authors: a.authors.iter().map(|t| name(&authors, t)).collect(),
            source: None,
            hero_media_id: Some(a.media),
            featured: a.featured,
            status: StoredStatus::Published,
            published_at: Some(a.published_at.into()),
            unpublish_at: None,
        };
        for number in 1..=revisions {
            let previous = fields.clone();
            let (summary, body_changed) = match number {
                1 => ("created", true),
                k if k % 3 == 0 => {
                    let body = fields.body.get_or_insert_with(String::new);
                    body.push_str(&format!("\n\n**Update {k}:** {}", a.summary));
                    ("changed body", true)
                }
                k if k % 3 == 1 => {
                    fields.summary = Some(format!("{} ({k})", a.summary));
                    ("changed summary", false)
                }
                k => {
                    fields.title = format!("{} ({k})", a.title);
                    ("changed title", false)
                }
            };
            let at = a.published_at + chrono::Duration::minutes(number as i64);
            let revision = NewRevision {
                number: number as i32,
                by: who.clone(),
                at,
                summary,
                fields: &fields,
                body_changed,
                previous: (number > 1).then_some(&previous),
            };
            revisions::store(conn, *id, revision)?;
        }
    }
    Ok(())
}

fn insert_batch(
    conn: &mut DbConn,
    batch: &[Planned],
    created_by: Option<i32>,
) -> AppResult<Vec<i32>> {
    let mut ids: Vec<i32> = Vec::with_capacity(batch.len());
    for chunk in batch.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|a| {
                (
                    articles::slug.eq(&a.slug),
                    articles::language.eq(a.language),
                    articles::title.eq(&a.title),
                    articles::summary.eq(Some(&a.summary)),
                    articles::section_id.eq(Some(a.section)),
                    articles::source.eq(None::<String>),
                    articles::hero_media_id.eq(Some(a.media)),
                    articles::featured.eq(a.featured),
                    articles::status.eq(StoredStatus::Published),
                    articles::published_at.eq(Some(a.published_at)),
                    articles::word_count.eq(a.words),
                    articles::reading_time_minutes
                        .eq(markdown::reading_minutes(a.words as usize) as i32),
                    articles::created_by.eq(created_by),
                    articles::created_at.eq(a.published_at),
                    articles::updated_at.eq(a.published_at),
                    articles::body_html.eq(&a.html),
                    articles::body.eq(&a.body),
                    // Published in the past: live, and announced as such.
                    articles::announced.eq(1),
                )
            })
            .collect();
        match conn {
            DbConn::Postgres(c) => ids.extend(
                diesel::insert_into(articles::table)
                    .values(&rows)
                    .returning(articles::id)
                    .get_results::<i32>(c)?,
            ),
            // One kept statement a row, its id asked for after it: a statement of many
            // rows into a table with unique keys (or one with `RETURNING`) first copies
            // each page it changes into a statement journal, in case it fails half-way
            // (see `sqlite::last_id`); that copying was a third of these inserts' time.
            DbConn::Sqlite(c) => {
                for row in rows {
                    diesel::insert_into(articles::table)
                        .values(row)
                        .execute(c)?;
                    ids.push(sqlite::last_id(c)?);
                }
            }
        }
    }
    let entries: Vec<_> = ids
        .iter()
        .zip(batch)
        .map(|(id, a)| {
            let a: &Planned = a;
            (*id, &*a.indexed_title, &*a.indexed_summary, &*a.indexed)
        })
        .collect();
    crate::db::dialect::fts_insert_many(conn, &entries)?;
    let mut tag_rows = Vec::with_capacity(batch.len() * 3);
    let mut author_rows = Vec::with_capacity(batch.len() * 2);
    let mut region_rows = Vec::with_capacity(batch.len());
    for (id, a) in ids.iter().zip(batch) {
        for (pos, t) in (0..).zip(a.tags) {
            tag_rows.push((
                article_tags::article_id.eq(*id),
                article_tags::tag_id.eq(t),
                article_tags::position.eq(pos),
                // Every link carries its story's time, and a tag link its language.
                article_tags::published_at.eq(Some(a.published_at)),
                article_tags::language.eq(Some(a.language)),
            ));
        }
        for (pos, au) in (0..).zip(&a.authors) {
            author_rows.push((
                article_authors::article_id.eq(*id),
                article_authors::author_id.eq(*au),
                article_authors::position.eq(pos),
                article_authors::published_at.eq(Some(a.published_at)),
            ));
        }
        region_rows.push((
            article_regions::article_id.eq(*id),
            article_regions::region_id.eq(a.region),
            article_regions::position.eq(0),
            article_regions::published_at.eq(Some(a.published_at)),
        ));
    }
    for chunk in tag_rows.chunks(ROWS_PER_STATEMENT * 4) {
        crate::on_backend!(conn, |c| diesel::insert_into(article_tags::table)
            .values(chunk)
            .execute(c)?);
    }
    for chunk in author_rows.chunks(ROWS_PER_STATEMENT * 4) {
        crate::on_backend!(conn, |c| diesel::insert_into(article_authors::table)
            .values(chunk)
            .execute(c)?);
    }
    for chunk in region_rows.chunks(ROWS_PER_STATEMENT * 4) {
        crate::on_backend!(conn, |c| diesel::insert_into(article_regions::table)
            .values(chunk)
            .execute(c)?);
    }
    // Every article is live: the batch's counts go in as one row per key.
    let mut counted = counts::Tally::default();
    let written_at = Timestamp::now().0;
    for (id, a) in ids.iter().zip(batch) {
        counted.touch(*id, written_at);
        let links: Vec<counts::Key> = a
            .tags
            .iter()
            .map(|t| (counts::TAG, *t))
            .chain(a.authors.iter().map(|au| (counts::AUTHOR, *au)))
            .chain([(counts::REGION, a.region)])
            .collect();
        let keys = counts::keys_with(
            links,
            *id,
            Some(a.section),
            a.language,
            a.featured,
            Some(a.published_at),
        );
        counted.add(keys, 1);
    }
    counted.write(conn)?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assembled_html_is_what_rendering_the_body_gives() {
        let mut rng = StdRng::seed_from_u64(7);
        for words in [&EN, &AR, &ES] {
            let p = pool(&mut rng, words);
            for _ in 0..20 {
                let a = assemble(&mut rng, &p, None);
                let body = a.markdown;
                assert_eq!(markdown::to_safe_html(&body), a.html);
                let plain = markdown::plain_text(&body);
                assert_eq!(markdown::word_count(&plain), a.words);
                // What the index holds matches what a write of this body would index,
                // word for word.
                let words = |t: &str| {
                    t.split(|c: char| !c.is_alphanumeric())
                        .filter(|w| !w.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                assert_eq!(words(&a.indexed), words(&search::normalize(&plain)));
                assert!(
                    (1_500..=6_000).contains(&body.len()),
                    "{} bytes",
                    body.len()
                );
            }
        }
    }
}
