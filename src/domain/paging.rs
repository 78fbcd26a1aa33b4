//! Pagination: `page`/`per_page` with totals, or keyset `cursor`s that stay stable while
//! new items are published. Cursors are opaque to clients and signed by the server, so a
//! tampered or hand-made cursor is a 400, never a query the server did not intend.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::{IntoParams, ToSchema};

use super::params::Params;
use crate::error::{AppError, AppResult};

/// Items per page when `per_page` is not given.
pub const DEFAULT_PER_PAGE: i64 = 20;
/// `page` mode reaches at most this many items deep; beyond it, cursors are the way.
pub const MAX_OFFSET: i64 = 10_000;
/// Longest cursor accepted, in bytes. The longest cursor this server issues is keyed by
/// a 300-character title of four-byte characters: about 1,250 bytes of JSON, 1,700 in
/// base64 with its tag. (The `cursor` fuzz target found that the earlier 1,024 refused
/// such cursors.)
const MAX_CURSOR_BYTES: usize = 2048;
/// Bytes of HMAC-SHA256 kept in a cursor: plenty against forgery, short in a URL.
const TAG_BYTES: usize = 16;

/// One value of a sort key in a cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyValue {
    Int(i64),
    Text(String),
    /// A missing value (a draft's `published_at`); such rows sort as SQLite sorts NULL.
    Null,
}

/// Where a keyset page starts: the sort it belongs to and the last item's sort key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorPos {
    /// The `sort` the cursor was made for.
    #[serde(rename = "s")]
    pub sort: String,
    /// The sort key of the last item returned, ending with its id.
    #[serde(rename = "k")]
    pub key: Vec<KeyValue>,
}

impl CursorPos {
    /// The key value at `i` as an integer.
    pub fn int(&self, i: usize) -> AppResult<i64> {
        match self.key.get(i) {
            Some(KeyValue::Int(n)) => Ok(*n),
            _ => Err(bad_cursor()),
        }
    }

    /// The key value at `i` as text.
    pub fn text(&self, i: usize) -> AppResult<&str> {
        match self.key.get(i) {
            Some(KeyValue::Text(s)) => Ok(s),
            _ => Err(bad_cursor()),
        }
    }

    /// The key value at `i` as an optional integer (`Null` for a missing value).
    pub fn opt_int(&self, i: usize) -> AppResult<Option<i64>> {
        match self.key.get(i) {
            Some(KeyValue::Int(n)) => Ok(Some(*n)),
            Some(KeyValue::Null) => Ok(None),
            _ => Err(bad_cursor()),
        }
    }

    /// The key value at `i` as a timestamp.
    pub fn time(&self, i: usize) -> AppResult<chrono::NaiveDateTime> {
        super::time::Timestamp::from_unix(self.int(i)?)
            .map(|t| t.0)
            .ok_or_else(bad_cursor)
    }

    /// The id that ends every key.
    pub fn last_id(&self) -> AppResult<i32> {
        let n = self.int(self.key.len().saturating_sub(1))?;
        i32::try_from(n).map_err(|_| bad_cursor())
    }
}

fn bad_cursor() -> AppError {
    AppError::bad_param(
        "cursor",
        "cursor is malformed or was not issued by this server",
    )
}

/// Signs and checks cursors with a key derived from the server secret.
#[derive(Clone)]
pub struct CursorCodec {
    key: Vec<u8>,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec")
    }
}

impl CursorCodec {
    /// A codec whose key is bound to the server secret but distinct from the token key.
    pub fn new(server_secret: &[u8]) -> Self {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(server_secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"newsdesk cursor key v1");
        Self {
            key: mac.finalize().into_bytes().to_vec(),
        }
    }

    fn tag(&self, payload: &[u8]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(payload);
        mac.finalize().into_bytes()[..TAG_BYTES].to_vec()
    }

    /// Encodes a position as `base64url(json).base64url(tag)`.
    pub fn encode(&self, pos: &CursorPos) -> String {
        let payload = serde_json::to_vec(pos).unwrap_or_default();
        let tag = self.tag(&payload);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// Decodes and verifies a cursor made for `sort`.
    pub fn decode(&self, cursor: &str, sort: &str) -> AppResult<CursorPos> {
        if cursor.len() > MAX_CURSOR_BYTES {
            return Err(bad_cursor());
        }
        let (payload, tag) = cursor.split_once('.').ok_or_else(bad_cursor)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| bad_cursor())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| bad_cursor())?;
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(&payload);
        if tag.len() != TAG_BYTES || mac.verify_truncated_left(&tag).is_err() {
            return Err(bad_cursor());
        }
        let pos: CursorPos = serde_json::from_slice(&payload).map_err(|_| bad_cursor())?;
        if pos.sort != sort {
            return Err(AppError::bad_param(
                "cursor",
                format!(
                    "cursor was made for sort={} but this request sorts by {sort}",
                    pos.sort
                ),
            ));
        }
        if pos.key.is_empty() {
            return Err(bad_cursor());
        }
        Ok(pos)
    }
}

/// Which page a list request asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum PageMode {
    /// `page=N` (from 1): totals are counted.
    Offset { page: i64 },
    /// `cursor=...`: continue after this position.
    After(CursorPos),
}

/// The paging part of a list request.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    pub per_page: i64,
    pub mode: PageMode,
}

/// `page`, `per_page` and `cursor`, on every paged list: what the OpenAPI document lists
/// and what [`PageRequest::from_params`] reads.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number from 1 (not together with `cursor`). Pages reach at most 10,000
    /// items deep; follow `meta.next_cursor` beyond that.
    #[param(minimum = 1, maximum = 2147483647)]
    pub page: Option<i64>,
    /// Items per page, 1 to 100 (default 20). Outside that range is a 400.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
    /// The `meta.next_cursor` of the previous page, to continue after it in the same sort.
    pub cursor: Option<String>,
}

impl PageRequest {
    /// Reads `page`, `per_page` and `cursor` ([`PageParams`]) for a list sorted by `sort`.
    pub fn from_params(params: &mut Params, codec: &CursorCodec, sort: &str) -> AppResult<Self> {
        let PageParams {
            page,
            per_page,
            cursor,
        } = params.read()?;
        Self::new(page, per_page, cursor, codec, sort)
    }

    /// The request for `page` or `cursor` (not both), `per_page` items long.
    pub fn new(
        page: Option<i64>,
        per_page: Option<i64>,
        cursor: Option<String>,
        codec: &CursorCodec,
        sort: &str,
    ) -> AppResult<Self> {
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        let mode = match (page, cursor) {
            (Some(_), Some(_)) => {
                return Err(AppError::bad_param(
                    "cursor",
                    "give either page or cursor, not both",
                ));
            }
            (_, Some(c)) => PageMode::After(codec.decode(&c, sort)?),
            (page, None) => {
                let page = page.unwrap_or(1);
                if (page - 1) * per_page > MAX_OFFSET {
                    return Err(AppError::bad_param(
                        "page",
                        format!(
                            "page reaches beyond the first {MAX_OFFSET} items; \
                             follow meta.next_cursor instead"
                        ),
                    ));
                }
                PageMode::Offset { page }
            }
        };
        Ok(Self { per_page, mode })
    }

    /// The first page of `per_page` items (for internal callers).
    pub fn first(per_page: i64) -> Self {
        Self {
            per_page,
            mode: PageMode::Offset { page: 1 },
        }
    }

    /// Rows to skip in offset mode.
    pub fn offset(&self) -> i64 {
        match self.mode {
            PageMode::Offset { page } => (page - 1) * self.per_page,
            PageMode::After(_) => 0,
        }
    }

    /// Rows to fetch: one more than a page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.per_page + 1
    }

    /// The cursor position, in cursor mode.
    pub fn after(&self) -> Option<&CursorPos> {
        match &self.mode {
            PageMode::After(pos) => Some(pos),
            PageMode::Offset { .. } => None,
        }
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest::first(DEFAULT_PER_PAGE)
    }
}

/// The `meta` object of every list response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListMeta {
    /// The page number (page mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i64>,
    /// Items per page.
    pub per_page: i64,
    /// Items in the whole list (page mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    /// Pages in the whole list (page mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_pages: Option<i64>,
    /// Pass as `cursor` to get the items after this page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The list envelope: `{"data": [...], "meta": {...}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListResponse<T: ToSchema> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Paging information.
    pub meta: ListMeta,
}

/// The envelope of a short list that is not paged (related articles, editions):
/// `{"data": [...], "meta": {"count": n}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Listing<T: ToSchema> {
    /// The items.
    pub data: Vec<T>,
    /// How many there are.
    pub meta: ListingMeta,
}

/// The `meta` of an unpaged list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListingMeta {
    /// Items in `data`.
    pub count: usize,
}

impl<T: ToSchema> Listing<T> {
    /// Wraps the items.
    pub fn of(data: Vec<T>) -> Self {
        let count = data.len();
        Self {
            data,
            meta: ListingMeta { count },
        }
    }
}

/// Turns a fetched page (up to `per_page + 1` rows) into the envelope.
///
/// `key_of` gives the cursor key of an item (its sort values, then its id); `total`
/// is counted by the caller in page mode only.
pub fn finish_page<R, T: ToSchema>(
    mut rows: Vec<R>,
    request: &PageRequest,
    sort: &str,
    codec: &CursorCodec,
    total: Option<i64>,
    key_of: impl Fn(&R) -> Vec<KeyValue>,
    view: impl FnMut(R) -> T,
) -> ListResponse<T> {
    let has_more = rows.len() as i64 > request.per_page;
    rows.truncate(request.per_page as usize);
    let next_cursor = if has_more {
        rows.last().map(|last| {
            codec.encode(&CursorPos {
                sort: sort.to_owned(),
                key: key_of(last),
            })
        })
    } else {
        None
    };
    let (page, total_pages) = match request.mode {
        PageMode::Offset { page } => (
            Some(page),
            total.map(|t| (t + request.per_page - 1) / request.per_page),
        ),
        PageMode::After(_) => (None, None),
    };
    ListResponse {
        data: rows.into_iter().map(view).collect(),
        meta: ListMeta {
            page,
            per_page: request.per_page,
            total,
            total_pages,
            next_cursor,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> CursorCodec {
        CursorCodec::new(b"a test secret that is long enough..")
    }

    fn pos() -> CursorPos {
        CursorPos {
            sort: "-published_at".into(),
            key: vec![KeyValue::Int(1_700_000_000), KeyValue::Int(42)],
        }
    }

    #[test]
    fn cursors_round_trip() {
        let c = codec();
        let s = c.encode(&pos());
        assert_eq!(c.decode(&s, "-published_at").unwrap(), pos());
    }

    /// Found by the `cursor` fuzz target: a cursor keyed by a long title in non-Latin
    /// script was longer than the decoder accepted.
    #[test]
    fn cursors_keyed_by_the_longest_title_decode() {
        let c = codec();
        for ch in ['a', 'ع', '語', '📰', '"'] {
            let pos = CursorPos {
                sort: "title".into(),
                key: vec![
                    KeyValue::Text(ch.to_string().repeat(300)),
                    KeyValue::Int(i64::from(i32::MAX)),
                ],
            };
            let s = c.encode(&pos);
            assert_eq!(c.decode(&s, "title").unwrap(), pos, "{ch}");
        }
    }

    #[test]
    fn tampered_cursors_are_refused() {
        let c = codec();
        let s = c.encode(&pos());
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"s":"-published_at","k":[1,1]}"#),
            s.split_once('.').unwrap().1
        );
        assert!(c.decode(&forged, "-published_at").is_err());
        assert!(c.decode("garbage", "-published_at").is_err());
        assert!(c.decode("", "-published_at").is_err());
        let other = CursorCodec::new(b"another secret, another server!!!!");
        assert!(other.decode(&s, "-published_at").is_err());
    }

    #[test]
    fn cursors_are_bound_to_their_sort() {
        let c = codec();
        let s = c.encode(&pos());
        assert!(c.decode(&s, "title").is_err());
    }

    #[test]
    fn page_and_cursor_together_are_refused() {
        let c = codec();
        let mut p = Params::parse(&format!("page=2&cursor={}", c.encode(&pos()))).unwrap();
        assert!(PageRequest::from_params(&mut p, &c, "-published_at").is_err());
    }

    #[test]
    fn deep_offsets_are_refused() {
        let mut p = Params::parse("page=1000&per_page=100").unwrap();
        assert!(PageRequest::from_params(&mut p, &codec(), "title").is_err());
    }

    #[test]
    fn finishing_a_page() {
        let c = codec();
        let req = PageRequest::first(2);
        let page = finish_page(
            vec![1, 2, 3],
            &req,
            "id",
            &c,
            Some(3),
            |n| vec![KeyValue::Int(*n)],
            |n| n,
        );
        assert_eq!(page.data, [1, 2]);
        assert_eq!(page.meta.total_pages, Some(2));
        let next = c
            .decode(page.meta.next_cursor.as_deref().unwrap(), "id")
            .unwrap();
        assert_eq!(next.last_id().unwrap(), 2);
    }
}
