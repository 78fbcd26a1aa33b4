//! The representation cache: anonymous GET responses kept in memory, invalidated exactly
//! when what they show can change.
//!
//! Every entry is stamped with generation counters when its response is computed, and
//! content writes move them after they commit (see `db::freshness`):
//!
//! - changing or deleting anything moves `all`, which retires every entry;
//! - creating something other than an article (a tag, a breaking item) moves `created`,
//!   which retires lists and counts but not article pages or article lists;
//! - creating an article appends what lists need to know of it (its tags, section,
//!   language...) to a short log; an article list is retired only when a logged article
//!   passes its filters, and `created` moves too (tag counts may change).
//!
//! An entry is served only while its stamp is current and the clock is before the next
//! scheduled change (an article falling due, a breaking item going live or expiring),
//! so a cached page never shows a draft, never hides a story that fell due, and never
//! survives a write that changes it. Writes made by other processes are noticed through
//! the database's freshness counter (`poll`) and retire everything. Responses to
//! requests with a token are never cached.
//!
//! Beside whole responses it keeps what recomputing a public list would read again:
//! list totals, anonymous searches' matches, and each listed story's links (tags,
//! bylines, regions, section, images), all under the same generations. A create leaves
//! the links of the stories already shown, so the page it retires is recomputed reading
//! the new story's alone.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::http::header::HeaderValue;
use actix_web::web::Bytes;
use tokio::sync::Notify;

use crate::db::{ArticleFacts, ContentChange, Db, Scope, freshness};
use crate::domain::articles::list::{Dependencies, KeptMatches, Matches, MatchesTicket, Totals};
use crate::domain::articles::{Links, LinksMemo};

/// A typical response's size, for the cache's estimate of how many it holds.
const ESTIMATED_ENTRY_BYTES: u64 = 4 * 1024;
/// Longest a request waits for another one computing the same response.
pub const FILL_WAIT: Duration = Duration::from_secs(2);
/// How often [`poll`] looks for writes by other processes and for scheduled changes.
pub const POLL_EVERY: Duration = Duration::from_millis(250);

/// Marks a response that must not be cached (health, live counters, streams).
#[derive(Debug, Clone, Copy)]
pub struct Uncacheable;

/// An anonymous search's matches, with the generations (`all`, `created`) at which
/// the search began.
type KeptSet = (MatchesTicket, Matches);

/// Articles created remembered in the log; a list older than that is recomputed.
const LOG_LENGTH: usize = 4096;

/// The generations an entry was computed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    all: u64,
    created: u64,
    /// Articles logged so far.
    articles: u64,
}

impl Stamp {
    /// Articles logged when the stamp was taken.
    pub fn articles(&self) -> u64 {
        self.articles
    }
}

/// What an entry depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `GET /api/v1/articles/{id_or_slug}`: only edits and deletes change it (with
    /// `include`, the handler marks the page a list of its language's stories).
    Article,
    /// A public article list: also the new articles that pass its filters.
    ArticleList(Dependencies),
    /// Lists, counts and everything else: also anything created.
    Other,
}

impl Kind {
    /// The kind of a request path whose handler said nothing more specific.
    pub fn of(path: &str) -> Self {
        match path.strip_prefix("/api/v1/articles/") {
            Some(rest) if !rest.is_empty() && !rest.contains('/') && rest != "most-read" => {
                Kind::Article
            }
            _ => Kind::Other,
        }
    }
}

/// Set by an article list handler on its response: what the page depends on.
#[derive(Debug, Clone)]
pub struct ListDependencies(pub Dependencies);

/// One cached response.
#[derive(Debug)]
pub struct Entry {
    pub stamp: Stamp,
    pub kind: Kind,
    /// For article lists: the logged articles up to here are known not to change it.
    pub checked: AtomicU64,
    pub etag: HeaderValue,
    pub last_modified: Option<HeaderValue>,
    pub content_language: Option<HeaderValue>,
    pub content_type: HeaderValue,
    pub body: Bytes,
}

#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<String, Arc<Entry>> for ByBytes {
    fn weight(&self, key: &String, entry: &Arc<Entry>) -> u64 {
        (key.len() + entry.body.len() + 256) as u64
    }
}

#[derive(Debug)]
struct Clock {
    /// The freshness counter last applied.
    seen_version: i64,
    /// Unix seconds of the next scheduled change (`i64::MAX`: none known).
    valid_until: i64,
}

/// What a request that missed the cache should do.
pub enum Fill {
    /// Compute the response; the guard tells waiters when done (on drop).
    Lead(FillGuard),
    /// Another request is computing it: wait, then look again.
    Wait(tokio::sync::futures::OwnedNotified),
}

/// Held by the request computing a missing entry; dropping it wakes the waiters.
pub struct FillGuard {
    cache: Arc<RepresentationCache>,
    key: String,
}

impl Drop for FillGuard {
    fn drop(&mut self) {
        let mut fills = self.cache.fills.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(notify) = fills.remove(&self.key) {
            notify.notify_waiters();
        }
    }
}

/// The cache; one per process, shared by every worker.
pub struct RepresentationCache {
    entries: quick_cache::sync::Cache<String, Arc<Entry>, ByBytes>,
    /// Keys being computed right now, so that a burst of misses computes once.
    fills: Mutex<HashMap<String, Arc<Notify>>>,
    all: AtomicU64,
    created: AtomicU64,
    articles: AtomicU64,
    /// The latest created articles with the content version that committed them,
    /// numbered from `articles - log.len() + 1`.
    log: RwLock<VecDeque<(i64, ArticleFacts)>>,
    /// The content version of the newest article dropped from the log.
    log_floor: std::sync::atomic::AtomicI64,
    /// Remembered list totals: (generation `all`, version counted at, total).
    totals: Mutex<HashMap<Dependencies, (u64, i64, i64)>>,
    /// Anonymous searches' full-text matches: ((generation `all`, generation
    /// `created`) when the search began, the matches).
    matches: Mutex<HashMap<String, KeptSet>>,
    /// Anonymous searches answered from a kept set of matches.
    matches_reused: AtomicU64,
    /// Articles' links kept by anonymous list reads and by creates, with generation
    /// `all` when read.
    links: quick_cache::sync::Cache<i32, (u64, Arc<Links>)>,
    /// Articles whose links a list read took from `links` instead of the database.
    links_reused: AtomicU64,
    clock: Mutex<Clock>,
    valid_until: std::sync::atomic::AtomicI64,
    /// The wall-clock second at which the horizon was last worked out. A clock now
    /// earlier than this went back: what was computed in the "future" (a scheduled story
    /// already public) is not served again.
    judged_at: std::sync::atomic::AtomicI64,
    /// Requests answered from an entry; see [`CacheStats`].
    hits: AtomicU64,
    /// Cacheable requests that had to be computed.
    misses: AtomicU64,
    /// Responses kept.
    stores: AtomicU64,
}

/// What the cache has done since the process started: enough for a test to know a
/// response came from the cache, and for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Anonymous reads answered from a cached entry (a 304 included).
    pub hits: u64,
    /// Anonymous reads the cache could not answer, so the handler computed them.
    pub misses: u64,
    /// Responses stored after a miss (only 200s that may be cached).
    pub stores: u64,
    /// Entries held now.
    pub entries: usize,
    /// Bytes held now, as weighed against the capacity (`CACHE_SIZE_MB`).
    pub bytes: u64,
    /// Anonymous searches whose full-text matches were kept from an earlier search of
    /// the same words (another page, page size or filter), so not ranked again.
    pub matches_reused: u64,
    /// Articles on anonymous list pages whose tags, bylines, regions, section and images
    /// were kept from an earlier page or from the article's create, so not read again.
    pub links_reused: u64,
    /// Articles whose links are kept now.
    pub links_kept: usize,
}

impl std::fmt::Debug for RepresentationCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepresentationCache")
            .field("bytes", &self.entries.weight())
            .finish_non_exhaustive()
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn unix(t: Option<chrono::NaiveDateTime>) -> i64 {
    t.map(|t| t.and_utc().timestamp()).unwrap_or(i64::MAX)
}

impl RepresentationCache {
    /// An empty cache that trusts nothing until told the state of the database.
    pub fn new(capacity_bytes: u64) -> Self {
        Self {
            // The item estimate sizes the memory of recently evicted keys: a key seen
            // again soon after its eviction is admitted straight to the protected part
            // of the cache. Sized for 4 KB responses, so a round over more pages than
            // the newly admitted part holds still lands on the second visit.
            entries: quick_cache::sync::Cache::with_weighter(
                usize::try_from(capacity_bytes / ESTIMATED_ENTRY_BYTES)
                    .unwrap_or(usize::MAX)
                    .max(1024),
                capacity_bytes,
                ByBytes,
            ),
            fills: Mutex::new(HashMap::new()),
            all: AtomicU64::new(0),
            created: AtomicU64::new(0),
            articles: AtomicU64::new(0),
            log: RwLock::new(VecDeque::with_capacity(LOG_LENGTH)),
            log_floor: std::sync::atomic::AtomicI64::new(i64::MIN),
            totals: Mutex::new(HashMap::new()),
            matches: Mutex::new(HashMap::new()),
            matches_reused: AtomicU64::new(0),
            links: quick_cache::sync::Cache::new(LINKS_KEPT),
            links_reused: AtomicU64::new(0),
            clock: Mutex::new(Clock {
                seen_version: i64::MIN,
                valid_until: i64::MIN,
            }),
            valid_until: std::sync::atomic::AtomicI64::new(i64::MIN),
            judged_at: std::sync::atomic::AtomicI64::new(i64::MIN),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            stores: AtomicU64::new(0),
        }
    }

    /// The counters so far and what is held now.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            stores: self.stores.load(Ordering::Relaxed),
            entries: self.entries.len(),
            bytes: self.entries.weight(),
            matches_reused: self.matches_reused.load(Ordering::Relaxed),
            links_reused: self.links_reused.load(Ordering::Relaxed),
            links_kept: self.links.len(),
        }
    }

    /// Counts a request answered from an entry (called by the middleware, once per
    /// request: a request that waited for another's fill looks twice).
    pub fn count_hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a cacheable request passed on to its handler.
    pub fn count_miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// The current generations, taken before a response is computed.
    pub fn stamp(&self) -> Stamp {
        Stamp {
            all: self.all.load(Ordering::Acquire),
            created: self.created.load(Ordering::Acquire),
            articles: self.articles.load(Ordering::Acquire),
        }
    }

    /// A cached response that is still exactly what would be computed now.
    pub fn get(&self, key: &str) -> Option<Arc<Entry>> {
        self.get_at(key, self.stamp())
    }

    /// A cached response as fresh as a request that arrived at `stamp` needs: what
    /// `get` gives, or what a request that was already computing when this one arrived
    /// (with no write in between) has just stored.
    pub fn get_at(&self, key: &str, stamp: Stamp) -> Option<Arc<Entry>> {
        self.get_at_time(key, stamp, unix_now())
    }

    /// [`RepresentationCache::get_at`] with the wall clock's second given.
    fn get_at_time(&self, key: &str, stamp: Stamp, now: i64) -> Option<Arc<Entry>> {
        if now >= self.valid_until.load(Ordering::Acquire) || self.clock_went_back(now) {
            return None;
        }
        let entry = self.entries.get(key)?;
        let fresh = entry.stamp.all == stamp.all
            && match &entry.kind {
                Kind::Article => true,
                Kind::Other => entry.stamp.created == stamp.created,
                Kind::ArticleList(deps) => self.unchanged(&entry, deps, stamp.articles),
            };
        fresh.then_some(entry)
    }

    /// True when no article logged after the entry was made, up to `upto`, belongs in
    /// the list.
    fn unchanged(&self, entry: &Entry, deps: &Dependencies, upto: u64) -> bool {
        let checked = entry.checked.load(Ordering::Acquire);
        if checked >= upto {
            return true;
        }
        let log = self.log.read().unwrap_or_else(|e| e.into_inner());
        let newest = self.articles.load(Ordering::Acquire);
        let oldest = newest + 1 - log.len() as u64;
        if checked + 1 < oldest || upto > newest {
            return false;
        }
        let from = (checked + 1 - oldest) as usize;
        let to = (upto + 1 - oldest) as usize;
        if log.range(from..to).any(|(_, facts)| deps.shows(facts)) {
            return false;
        }
        entry.checked.fetch_max(upto, Ordering::AcqRel);
        true
    }

    /// After a miss: lead the computation of `key`, or wait for the one under way.
    pub fn begin_fill(self: &Arc<Self>, key: &str) -> Fill {
        let mut fills = self.fills.lock().unwrap_or_else(|e| e.into_inner());
        match fills.get(key) {
            // Created under the lock, so the leader's wake-up cannot be missed.
            Some(notify) => Fill::Wait(notify.clone().notified_owned()),
            None => {
                fills.insert(key.to_owned(), Arc::new(Notify::new()));
                Fill::Lead(FillGuard {
                    cache: self.clone(),
                    key: key.to_owned(),
                })
            }
        }
    }

    /// Keeps a response computed at `entry.stamp` (stale stamps are simply never served).
    pub fn put(&self, key: String, entry: Entry) {
        self.stores.fetch_add(1, Ordering::Relaxed);
        self.entries.insert(key, Arc::new(entry));
    }

    /// True when the wall clock reads earlier than when the horizon was worked out
    /// (by more than the second that timestamps are truncated to).
    fn clock_went_back(&self, now: i64) -> bool {
        now.saturating_add(1) < self.judged_at.load(Ordering::Acquire)
    }

    /// Applies a committed group of content writes of this process.
    pub fn apply(&self, change: ContentChange) {
        let mut clock = self.clock.lock().unwrap_or_else(|e| e.into_inner());
        let now = unix_now();
        if self.clock_went_back(now) {
            self.bump(Scope::All, change.version);
        }
        for scope in change.scopes {
            self.bump(scope, change.version);
        }
        // Another instance's change can arrive after a newer one of this instance's: its
        // scopes still apply, but the next scheduled change it saw is out of date.
        if change.version >= clock.seen_version {
            clock.seen_version = change.version;
            clock.valid_until = unix(change.horizon);
            self.valid_until.store(clock.valid_until, Ordering::Release);
        }
        self.judged_at.store(now, Ordering::Release);
    }

    fn bump(&self, scope: Scope, version: i64) {
        match scope {
            Scope::All => {
                self.all.fetch_add(1, Ordering::AcqRel);
            }
            Scope::Created => {
                self.created.fetch_add(1, Ordering::AcqRel);
            }
            // A draft or a scheduled article changes no public page until it is due,
            // and the scheduled change is watched separately.
            Scope::ArticleCreated(facts) if !facts.public => {}
            Scope::ArticleCreated(facts) => {
                let mut log = self.log.write().unwrap_or_else(|e| e.into_inner());
                if log.len() == LOG_LENGTH
                    && let Some((dropped, _)) = log.pop_front()
                {
                    self.log_floor.fetch_max(dropped, Ordering::AcqRel);
                }
                log.push_back((version, facts));
                self.articles.fetch_add(1, Ordering::AcqRel);
                self.created.fetch_add(1, Ordering::AcqRel);
            }
        }
    }

    /// Applies what a read of the database found: a newer counter (another process
    /// wrote) or a scheduled change that has come invalidates everything.
    fn observe(&self, version: i64, horizon: Option<chrono::NaiveDateTime>) {
        self.observe_at(version, horizon, unix_now());
    }

    /// [`RepresentationCache::observe`] with the wall clock's second given.
    fn observe_at(&self, version: i64, horizon: Option<chrono::NaiveDateTime>, now: i64) {
        let mut clock = self.clock.lock().unwrap_or_else(|e| e.into_inner());
        if version < clock.seen_version {
            return;
        }
        let due = now >= clock.valid_until;
        // Visibility follows the clock both ways: after it went back, a story scheduled
        // for the "future" it came from is hidden again.
        if version > clock.seen_version || due || self.clock_went_back(now) {
            self.bump(Scope::All, version);
        }
        clock.seen_version = version;
        clock.valid_until = unix(horizon);
        self.valid_until.store(clock.valid_until, Ordering::Release);
        self.judged_at.store(now, Ordering::Release);
    }

    /// Reads the database's freshness counter and next scheduled change, and applies them.
    pub fn refresh(&self, db: &Db) -> crate::error::AppResult<()> {
        let (version, horizon) = db.read_blocking(|conn| {
            use diesel::Connection;
            conn.transaction(|conn| {
                let version = freshness::version(conn)?;
                let horizon = freshness::horizon(conn, chrono::Utc::now().naive_utc())?;
                Ok((version, horizon))
            })
        })?;
        self.observe(version, horizon);
        Ok(())
    }
}

/// Most list totals remembered; beyond that the memo starts afresh.
const MAX_TOTALS: usize = 10_000;

/// Most anonymous searches whose matches are kept (up to 1,000 matches of 16 bytes
/// each: at most 4 MB); beyond that the memo starts afresh.
const MAX_KEPT_SEARCHES: usize = 256;

impl Totals for RepresentationCache {
    fn get(&self, deps: &Dependencies) -> Result<i64, u64> {
        let ticket = self.all.load(Ordering::Acquire);
        // A scheduled story that has fallen due changes counts with no write: past the
        // next scheduled change, count again (as `get_at` recomputes the page).
        if unix_now() >= self.valid_until.load(Ordering::Acquire) {
            return Err(ticket);
        }
        let remembered = self
            .totals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(deps)
            .copied();
        let Some((all, counted_at, total)) = remembered else {
            return Err(ticket);
        };
        // Anything but a create since the count (or articles created so long ago that
        // the log no longer holds them) makes the count unusable.
        if all != ticket || counted_at < self.log_floor.load(Ordering::Acquire) {
            return Err(ticket);
        }
        let log = self.log.read().unwrap_or_else(|e| e.into_inner());
        let added = log
            .iter()
            .filter(|(version, facts)| *version > counted_at && deps.shows(facts))
            .count();
        Ok(total + added as i64)
    }

    fn put(&self, deps: &Dependencies, total: i64, version: i64, ticket: u64) {
        let mut totals = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        if totals.len() >= MAX_TOTALS {
            totals.clear();
        }
        totals.insert(deps.clone(), (ticket, version, total));
    }
}

impl KeptMatches for RepresentationCache {
    fn matches(&self, key: &str) -> Result<Matches, MatchesTicket> {
        self.matches_at(key, unix_now())
    }

    fn put_matches(&self, key: String, found: Matches, ticket: MatchesTicket) {
        let mut matches = self.matches.lock().unwrap_or_else(|e| e.into_inner());
        if matches.len() >= MAX_KEPT_SEARCHES {
            // Sets of a generation already past are never served: drop those first.
            let now = (
                self.all.load(Ordering::Acquire),
                self.created.load(Ordering::Acquire),
            );
            matches.retain(|_, (kept_at, _)| *kept_at == now);
            if matches.len() >= MAX_KEPT_SEARCHES {
                matches.clear();
            }
        }
        matches.insert(key, (ticket, found));
    }
}

/// Most articles whose links are kept: the stories of the pages read most (a front
/// page and thirty tag pages hold about 600), at two to four kilobytes each.
const LINKS_KEPT: usize = 1024;

impl LinksMemo for RepresentationCache {
    fn kept_links(&self, ids: &[i32]) -> (u64, Vec<Option<Arc<Links>>>) {
        // Taken before the links are read, as a response's stamp is: an edit that
        // commits meanwhile moves `all`, and what was read is never handed out.
        let ticket = self.all.load(Ordering::Acquire);
        let kept: Vec<Option<Arc<Links>>> = ids
            .iter()
            .map(|id| match self.links.get(id) {
                Some((read_at, links)) if read_at == ticket => Some(links),
                _ => None,
            })
            .collect();
        (ticket, kept)
    }

    fn links_used(&self, n: usize) {
        self.links_reused.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn links_ticket(&self) -> u64 {
        self.all.load(Ordering::Acquire)
    }

    fn keep_links(&self, ticket: u64, links: Vec<(i32, Arc<Links>)>) {
        if ticket != self.all.load(Ordering::Acquire) {
            return;
        }
        for (id, kept) in links {
            self.links.insert(id, (ticket, kept));
        }
    }
}

impl RepresentationCache {
    /// [`KeptMatches::matches`] with the wall clock's second given. Kept matches are
    /// served under the rules of an entry of [`Kind::Other`]: no write of any kind and
    /// no article created since, and the next scheduled change not yet come.
    fn matches_at(&self, key: &str, now: i64) -> Result<Matches, MatchesTicket> {
        // Taken before the search, as a response's stamp is: a write that commits
        // while it runs moves a generation, and what it found is never served.
        let ticket = (
            self.all.load(Ordering::Acquire),
            self.created.load(Ordering::Acquire),
        );
        // Past the next scheduled change a story may have fallen due or expired with no
        // write (`observe` then moves `all`); until then, nothing kept is trusted.
        if now >= self.valid_until.load(Ordering::Acquire) || self.clock_went_back(now) {
            return Err(ticket);
        }
        let matches = self.matches.lock().unwrap_or_else(|e| e.into_inner());
        match matches.get(key) {
            Some((kept_at, found)) if *kept_at == ticket => {
                self.matches_reused.fetch_add(1, Ordering::Relaxed);
                Ok(found.clone())
            }
            _ => Err(ticket),
        }
    }
}

/// Keeps the cache in step with the database (and with other instances' writes):
/// every [`POLL_EVERY`], on a worker owned by `workers`.
pub fn poll(
    cache: Arc<RepresentationCache>,
    db: Db,
    workers: &crate::workers::Workers,
) -> std::io::Result<()> {
    workers.spawn(
        "cache-freshness",
        crate::workers::Stage::Producers,
        move |ctx| {
            let mut rounds: u32 = 0;
            while ctx.sleep(POLL_EVERY) {
                match cache.refresh(&db) {
                    Ok(()) => ctx.health.ok(),
                    Err(e) => {
                        ctx.health.failed("cannot read content freshness");
                        tracing::warn!(error = %e, "cannot read content freshness");
                    }
                }
                rounds = rounds.wrapping_add(1);
                if rounds.is_multiple_of(8) {
                    crate::memory::give_back();
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(cache: &RepresentationCache, kind: Kind) -> Entry {
        Entry {
            stamp: cache.stamp(),
            checked: AtomicU64::new(cache.stamp().articles),
            kind,
            etag: HeaderValue::from_static("\"x\""),
            last_modified: None,
            content_language: None,
            content_type: HeaderValue::from_static("application/json"),
            body: Bytes::from_static(b"{}"),
        }
    }

    fn change(scope: Scope, version: i64) -> ContentChange {
        ContentChange {
            scopes: vec![scope],
            version,
            horizon: None,
        }
    }

    fn article(tag: i32) -> Scope {
        Scope::ArticleCreated(ArticleFacts {
            public: true,
            language: "en".into(),
            tag_ids: vec![tag],
            ..Default::default()
        })
    }

    fn tag_list(tag: i32) -> Kind {
        Kind::ArticleList(Dependencies::Filters {
            sections: None,
            tags: Some(vec![tag]),
            author: None,
            region: None,
            lang: None,
            featured: None,
            after: None,
            before: None,
        })
    }

    #[test]
    fn nothing_is_served_before_the_database_state_is_known() {
        let cache = RepresentationCache::new(1 << 20);
        cache.put("/a".into(), entry(&cache, Kind::Other));
        assert!(cache.get("/a").is_none());
        cache.apply(change(Scope::Created, 1));
        cache.put("/a".into(), entry(&cache, Kind::Other));
        assert!(cache.get("/a").is_some());
    }

    #[test]
    fn creates_invalidate_lists_but_not_article_pages() {
        let cache = RepresentationCache::new(1 << 20);
        cache.apply(change(Scope::Created, 1));
        cache.put("/api/v1/tags".into(), entry(&cache, Kind::Other));
        cache.put("/api/v1/articles/a".into(), entry(&cache, Kind::Article));
        cache.apply(change(Scope::Created, 2));
        assert!(cache.get("/api/v1/tags").is_none());
        assert!(cache.get("/api/v1/articles/a").is_some());
        cache.apply(change(Scope::All, 3));
        assert!(cache.get("/api/v1/articles/a").is_none());
    }

    #[test]
    fn a_new_article_retires_only_the_lists_it_belongs_to() {
        let cache = RepresentationCache::new(1 << 20);
        cache.apply(change(Scope::Created, 1));
        cache.put("/articles?tag=1".into(), entry(&cache, tag_list(1)));
        cache.put("/articles?tag=2".into(), entry(&cache, tag_list(2)));
        cache.put(
            "/articles".into(),
            entry(&cache, Kind::ArticleList(Dependencies::Any)),
        );
        cache.apply(change(article(2), 2));
        assert!(cache.get("/articles?tag=1").is_some());
        assert!(cache.get("/articles?tag=2").is_none());
        assert!(cache.get("/articles").is_none());
        // A draft changes no public list.
        cache.put(
            "/articles".into(),
            entry(&cache, Kind::ArticleList(Dependencies::Any)),
        );
        cache.apply(change(
            Scope::ArticleCreated(ArticleFacts {
                public: false,
                ..Default::default()
            }),
            3,
        ));
        assert!(cache.get("/articles").is_some());
    }

    #[test]
    fn a_list_older_than_the_log_is_recomputed() {
        let cache = RepresentationCache::new(1 << 20);
        cache.apply(change(Scope::Created, 1));
        cache.put("/articles?tag=1".into(), entry(&cache, tag_list(1)));
        for i in 0..(LOG_LENGTH as i64 + 1) {
            cache.apply(change(article(2), 2 + i));
        }
        assert!(cache.get("/articles?tag=1").is_none());
    }

    #[test]
    fn a_response_computed_across_a_write_is_never_served_after_it() {
        let cache = RepresentationCache::new(1 << 20);
        cache.apply(change(Scope::Created, 1));
        let before = cache.stamp();
        let stale = entry(&cache, Kind::Other);
        cache.apply(change(Scope::Created, 2));
        cache.put("/x".into(), stale);
        assert!(cache.get("/x").is_none());
        // A request that arrived before the write may still take it.
        assert!(cache.get_at("/x", before).is_some());
    }

    #[test]
    fn a_clock_that_goes_back_stops_serving_what_was_computed_in_its_future() {
        let cache = RepresentationCache::new(1 << 20);
        let today = unix_now();
        let tomorrow = today + 86_400;
        // The clock jumped a day ahead: a page computed then is served then.
        cache.observe_at(1, None, tomorrow);
        cache.put("a".into(), entry(&cache, Kind::Article));
        assert!(cache.get_at_time("a", cache.stamp(), tomorrow).is_some());
        // Back to today: not served, before and after the poller notices.
        assert!(cache.get_at_time("a", cache.stamp(), today).is_none());
        cache.observe_at(1, None, today);
        assert!(cache.get_at_time("a", cache.stamp(), today).is_none());
        // What is computed now is served now.
        cache.put("a".into(), entry(&cache, Kind::Article));
        assert!(cache.get_at_time("a", cache.stamp(), today).is_some());
    }

    #[test]
    fn a_passed_horizon_stops_serving() {
        let cache = RepresentationCache::new(1 << 20);
        cache.apply(ContentChange {
            scopes: vec![Scope::Created],
            version: 1,
            horizon: chrono::DateTime::from_timestamp(unix_now() - 1, 0).map(|t| t.naive_utc()),
        });
        cache.put("/x".into(), entry(&cache, Kind::Other));
        assert!(cache.get("/x").is_none());
    }

    #[test]
    fn other_processes_writes_invalidate_everything() {
        let cache = RepresentationCache::new(1 << 20);
        cache.observe(5, None);
        cache.put("/api/v1/articles/a".into(), entry(&cache, Kind::Article));
        cache.observe(5, None);
        assert!(cache.get("/api/v1/articles/a").is_some());
        cache.observe(6, None);
        assert!(cache.get("/api/v1/articles/a").is_none());
    }

    fn kept(ids: &[i32]) -> Matches {
        ids.iter().map(|id| (*id, 1.0)).collect()
    }

    /// Keeps `ids` under `key` as a search that starts now would.
    fn search(cache: &RepresentationCache, key: &str, ids: &[i32]) {
        if let Err(ticket) = cache.matches(key) {
            cache.put_matches(key.into(), kept(ids), ticket);
        }
    }

    #[test]
    fn kept_matches_are_served_until_anything_a_reader_could_find_changes() {
        let cache = RepresentationCache::new(1 << 20);
        search(&cache, "w", &[1]);
        assert!(cache.matches("w").is_err(), "not before the state is known");
        cache.apply(change(Scope::Created, 1));
        search(&cache, "w", &[1]);
        assert_eq!(cache.matches("w").map(|m| m.to_vec()), Ok(vec![(1, 1.0)]));
        assert_eq!(cache.stats().matches_reused, 1);
        // A draft changes no reader's search; a published story, any other create, an
        // edit and another process's write each do.
        let draft = Scope::ArticleCreated(ArticleFacts::default());
        cache.apply(change(draft, 2));
        assert!(cache.matches("w").is_ok());
        for (i, scope) in [article(1), Scope::Created, Scope::All]
            .into_iter()
            .enumerate()
        {
            search(&cache, "w", &[1]);
            assert!(cache.matches("w").is_ok());
            cache.apply(change(scope, 3 + i as i64));
            assert!(cache.matches("w").is_err(), "retired by write {i}");
        }
        search(&cache, "w", &[1]);
        cache.observe(10, None);
        assert!(cache.matches("w").is_err(), "retired by another process");
        // Found across a write: never served after it.
        let ticket = cache.matches("w").unwrap_err();
        cache.apply(change(Scope::All, 11));
        cache.put_matches("w".into(), kept(&[1]), ticket);
        assert!(cache.matches("w").is_err());
    }

    #[test]
    fn kept_matches_stop_at_the_next_scheduled_change_and_when_the_clock_goes_back() {
        let cache = RepresentationCache::new(1 << 20);
        let today = unix_now();
        let at = |t: i64| chrono::DateTime::from_timestamp(t, 0).map(|t| t.naive_utc());
        cache.observe_at(1, at(today + 60), today);
        search(&cache, "w", &[1]);
        assert!(cache.matches_at("w", today + 59).is_ok());
        assert!(
            cache.matches_at("w", today + 60).is_err(),
            "a story falls due"
        );
        assert!(
            cache.matches_at("w", today - 5).is_err(),
            "the clock went back"
        );
    }

    #[test]
    fn kept_searches_are_bounded() {
        let cache = RepresentationCache::new(1 << 20);
        cache.apply(change(Scope::Created, 1));
        for i in 0..MAX_KEPT_SEARCHES + 10 {
            search(&cache, &format!("w{i}"), &[1]);
            let held = cache.matches.lock().unwrap().len();
            assert!(held <= MAX_KEPT_SEARCHES, "{held} held");
        }
        assert!(
            cache
                .matches(&format!("w{}", MAX_KEPT_SEARCHES + 9))
                .is_ok()
        );
    }

    #[test]
    fn paths_are_classified() {
        assert_eq!(Kind::of("/api/v1/articles/some-story"), Kind::Article);
        assert_eq!(Kind::of("/api/v1/articles"), Kind::Other);
        assert_eq!(Kind::of("/api/v1/articles/most-read"), Kind::Other);
        assert_eq!(Kind::of("/api/v1/articles/x/related"), Kind::Other);
        assert_eq!(Kind::of("/api/v1/tags/x"), Kind::Other);
    }
}
