//! `/articles`: the stories. Readers see what is published and due; staff see more
//! (writers never other people's drafts). Writers create drafts and edit their own;
//! editors publish, edit and delete anything.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Actor;
use crate::db::{DbConn, run_blocking};
use crate::domain::Key;
use crate::domain::articles::fields::{FieldSet, INCLUDED_ITEMS, Includes, SINGLE_FIELDS};
use crate::domain::articles::list::{ArticleParams, ArticleQuery, Dependencies};
use crate::domain::articles::related::{self as around, LimitParams, parse_limit};
use crate::domain::articles::write::{ArticleCreate, ArticlePatch, Rendered};
use crate::domain::articles::{self, Article, ArticleStatus, LinksMemo, Translation};
use crate::domain::feeds::Site;
use crate::domain::input::Input;
use crate::domain::paging::{ListResponse, Listing, PageParams};
use crate::domain::views::{MostRead, MostReadParams, MostReadQuery};
use crate::error::{AppError, AppResult};
use crate::http::cache::{ListDependencies, Uncacheable};
use crate::http::conditional::object;
use crate::http::created;
use crate::http::extract::{Editor, JsonBody, MaybeStaff, Staff};
use crate::http::moved::or_moved;
use crate::http::precondition::{AuditBy, Target};
use crate::http::state::AppState;

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    // `most-read` before `{id_or_slug}`, which would take it for a slug.
    cfg.service(list_articles)
        .service(create_article)
        .service(most_read)
        .service(get_article)
        .service(update_article)
        .service(delete_article)
        .service(translations)
        .service(related)
        .service(read_next)
        .service(record_view);
}

/// Lists articles, newest first. Items carry everything but `body` and `body_html`.
/// Readers see published articles whose time has come; with a token, `status`
/// widens the list. A filter value that names nothing gives an empty list.
///
/// Searches (`q`) count repeated words once, leave out very common words ("the", "de",
/// "في") when there are others, and use at most 8 words. Anonymous searches that are not
/// answered from the cache are limited per client address (30 at once, then 1 per
/// second by default; 429 with `Retry-After` beyond that); callers with a token are not.
#[utoipa::path(
    tag = "Articles",
    params(PageParams, ArticleParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of articles", body = ListResponse<Article>),
        (status = 429, response = crate::http::responses::RateLimited),
    )
)]
#[get("/articles")]
pub async fn list_articles(
    state: web::Data<AppState>,
    staff: MaybeStaff,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let query = ArticleQuery::parse(
        req.query_string(),
        &state.cursors,
        &state.config.languages,
        staff.0.is_some(),
    )?;
    if staff.0.is_none() && query.q.is_some() {
        // Only searches the cache could not answer reach this point: each costs real
        // work, so each client address has a budget of them.
        let address = crate::http::client::client_address(&req, &state.config.trusted_proxies);
        state.throttles.search(&address)?;
    }
    let codec = state.cursors.clone();
    let viewer = staff.0;
    let totals = state.cache.clone();
    let site = state.site.clone();
    let fields = query.fields.clone();
    let (page, dependencies) = state
        .db
        .read(move |conn| {
            articles::list::list_with_dependencies(
                conn,
                &query,
                viewer,
                &codec,
                Some(totals.as_ref()),
                &site,
            )
        })
        .await?;
    let mut res = match fields {
        None => HttpResponse::Ok().json(page),
        Some(fields) => {
            let mut value = serde_json::to_value(&page).map_err(AppError::internal)?;
            fields.apply_to_list(&mut value);
            HttpResponse::Ok().json(value)
        }
    };
    res.extensions_mut().insert(ListDependencies(dependencies));
    Ok(res)
}

/// Bodies up to this size are rendered on the request's own worker: at most about 90 µs
/// of work (Markdown, sanitizing, the search text), about what a round trip to the
/// blocking pool and back costs (creates of short bodies 1.13× with it, `bench/RESULTS.md`).
/// Longer ones are rendered on the pool, so a long feature never holds a worker that
/// other requests are waiting on.
const RENDER_HERE_BYTES: usize = 2 * 1024;

/// A request and its body (`text` of it) rendered ahead of its write.
async fn render_ahead<T: Send + 'static>(
    request: T,
    text: fn(&T) -> &Input<String>,
) -> AppResult<(T, Option<Rendered>)> {
    if !matches!(text(&request), Input::Value(t) if t.len() > RENDER_HERE_BYTES) {
        let ahead = articles::write::prerender(text(&request));
        return Ok((request, ahead));
    }
    run_blocking(move || {
        let ahead = articles::write::prerender(text(&request));
        Ok((request, ahead))
    })
    .await
}

/// Creates an article. Writers may only create drafts (`status: published` is a 403).
#[utoipa::path(
    tag = "Articles",
    security(("bearer" = ["content:write", "role:writer"])),
    request_body = ArticleCreate,
    responses(
        (status = 201, description = "The new article", body = Article,
            headers(("Location" = String, description = "URL of the new article"))),
    )
)]
#[post("/articles")]
pub async fn create_article(
    state: web::Data<AppState>,
    staff: Staff,
    JsonBody(body): JsonBody<ArticleCreate>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let site = state.site.clone();
    let actor = staff.actor;
    let (body, ahead) = render_ahead(body, |b| &b.body).await?;
    // Taken before the write, as a list read takes its ticket before its read: an edit
    // that commits meanwhile, in the create's group or before it, retires the links.
    let ticket = state.cache.links_ticket();
    let (article, links) = state
        .db
        .write_content_again(move |conn| {
            // Runs again, from the same request, if another write of its group failed.
            articles::write::create(conn, actor, body.clone(), &languages, ahead.clone(), &site)
        })
        .await?;
    // Committed: the list pages this create retired show its links without reading
    // them again (anonymous pages only take what is kept, and only for stories they
    // list themselves). A draft or a scheduled story is on no public page yet, and by
    // the time it is, `all` has moved: it would only push out links that serve.
    if let (Some(links), ArticleStatus::Published) = (links, article.status) {
        state.cache.keep_links(ticket, vec![(article.id, links)]);
    }
    Ok(created(
        format!("/api/v1/articles/{}", article.slug),
        &article,
    ))
}

/// Reads an article by id or slug, with `body` and `body_html`. A draft or scheduled
/// article is a 404 for readers. The section, tags, regions, byline and hero image are
/// named in the article's own language. `include=related,next` adds the first 5 items
/// of `/related` and `/next` under one ETag; `fields` keeps only the named top-level
/// fields (and `id`). A slug the article had before answers 308 with the current path.
#[utoipa::path(
    tag = "Articles",
    params(Key, ArticleReadParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The article", body = Article),
        (status = 308, response = crate::http::responses::Moved),
    )
)]
#[get("/articles/{id_or_slug}")]
pub async fn get_article(
    state: web::Data<AppState>,
    staff: MaybeStaff,
    key: Key,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let (fields, includes, preview) = read_params(req.query_string())?;
    let viewer = staff.0;
    let site = state.site.clone();
    let k = key.clone();
    let previewing = preview.is_some();
    let embeds_others = !includes.is_empty();
    let result = state
        .db
        .read(move |conn| {
            let (mut article, head) = match preview {
                Some(token) => {
                    let (article, head) = articles::safety::preview(conn, &k, &token, &site)?;
                    (article, Some(head))
                }
                None => (articles::get(conn, &k, viewer, &site)?, None),
            };
            if !includes.is_empty() {
                let head = match head {
                    Some(h) => h,
                    None => articles::find_head(conn, &Key::Id(article.id), viewer)?,
                };
                let wanted = (includes.related, includes.next);
                (article.related, article.next) =
                    around::around(conn, &head, INCLUDED_ITEMS, wanted, &site)?;
            }
            Ok(article)
        })
        .await
        .and_then(|article| {
            let mut res = match fields {
                None => object(&article, article.updated_at),
                Some(fields) => {
                    let mut value = serde_json::to_value(&article).map_err(AppError::internal)?;
                    fields.apply(&mut value, &["related", "next"]);
                    object(&value, article.updated_at)
                }
            };
            // The story's language: what its text and embedded names are in.
            if let Ok(lang) = actix_web::http::header::HeaderValue::from_str(&article.language) {
                res.headers_mut()
                    .insert(actix_web::http::header::CONTENT_LANGUAGE, lang);
            }
            if embeds_others {
                // Related stories and "read next" come from the stories of its language:
                // a new one there may join them, where a plain article page stays as it is.
                res.extensions_mut()
                    .insert(ListDependencies(stories_of_language(
                        article.language.clone(),
                    )));
            }
            if previewing {
                // A preview is for its holder alone: never kept by a cache.
                res.headers_mut().insert(
                    actix_web::http::header::CACHE_CONTROL,
                    actix_web::http::header::HeaderValue::from_static(
                        crate::http::conditional::NO_STORE,
                    ),
                );
                res.extensions_mut().insert(Uncacheable);
            }
            Ok(res)
        });
    if previewing {
        return result;
    }
    or_moved(&state, &req, &key, viewer, renamed_article, result).await
}

/// The current slug of a renamed article, if `viewer` may see it.
fn renamed_article(
    conn: &mut DbConn,
    old: &str,
    viewer: Option<Actor>,
) -> AppResult<Option<String>> {
    match crate::domain::old_slugs::target(conn, articles::KIND, old)? {
        Some(id) => match articles::find_head(conn, &Key::Id(id), viewer) {
            Ok(head) => Ok(Some(head.slug)),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        },
        None => Ok(None),
    }
}

/// `fields` and `include` of a single article read.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleReadParams {
    /// Top-level fields to return, comma-separated (`id` always comes too): any field
    /// of the article. An unknown name is a 400.
    #[param(max_length = 400, example = "title,url,hero_media")]
    pub fields: Option<String>,
    /// `related`, `next` or both (comma-separated): adds those arrays (5 items each).
    #[param(max_length = 40, example = "related,next")]
    pub include: Option<String>,
    /// A preview token (`POST …/preview-links`): reads this article whatever its
    /// status, answered `private, no-store`. A token of another article, expired or
    /// revoked, is a 404.
    #[param(max_length = 100, example = "ndp_3q2-7Xc")]
    pub preview: Option<String>,
}

type ReadParams = (Option<FieldSet>, Includes, Option<String>);

/// Reads `fields`, `include` and `preview`; any other parameter is unknown (400).
fn read_params(query: &str) -> AppResult<ReadParams> {
    let mut params = crate::domain::params::Params::parse(query)?;
    let ArticleReadParams {
        fields,
        include,
        preview,
    } = params.read()?;
    params.finish()?;
    Ok((
        FieldSet::parse(fields.as_deref(), SINGLE_FIELDS)?,
        Includes::parse(include.as_deref())?,
        preview,
    ))
}

/// Changes an article: send only the fields to change. Writers may change only their
/// own drafts and cannot publish (403); editors change anything.
#[utoipa::path(
    tag = "Articles",
    security(("bearer" = ["content:write", "role:writer"])),
    params(Key),
    request_body(content = ArticlePatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed article", body = Article),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[patch("/articles/{id_or_slug}")]
pub async fn update_article(
    state: web::Data<AppState>,
    staff: Staff,
    target: Target,
    JsonBody(body): JsonBody<ArticlePatch>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let site = state.site.clone();
    let actor = staff.actor;
    let (body, ahead) = render_ahead(body, |b| &b.body).await?;
    let shown = site.clone();
    let current = move |conn: &mut DbConn, key: &Key| articles::get(conn, key, Some(actor), &shown);
    let change = move |conn: &mut DbConn, key: &Key| {
        articles::write::update(conn, actor, key, body, &languages, ahead, &site)
    };
    target
        .update(&state.db, AuditBy::TheChange, current, change)
        .await
}

/// Moves an article to the trash: readers and staff get 404 at once, its slug stays
/// reserved, and `POST /api/v1/trash/{id}/restore` brings it back whole.
#[utoipa::path(
    tag = "Articles",
    security(("bearer" = ["content:write", "role:editor"])),
    params(Key),
    responses(
        (status = 204, description = "Deleted"),
    )
)]
#[delete("/articles/{id_or_slug}")]
pub async fn delete_article(
    state: web::Data<AppState>,
    editor: Staff<Editor>,
    target: Target,
) -> AppResult<HttpResponse> {
    let actor = editor.actor;
    let site = state.site.clone();
    let current = move |conn: &mut DbConn, key: &Key| articles::get(conn, key, Some(actor), &site);
    let remove = move |conn: &mut DbConn, key: &Key| {
        crate::domain::articles::safety::trash(conn, actor, key)
    };
    target
        .delete(&state.db, AuditBy::TheChange, current, remove)
        .await
}

/// The other editions of the story, one per language (readers see published ones).
#[utoipa::path(
    tag = "Articles",
    params(Key),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The other editions, by language", body = Listing<Translation>),
        (status = 308, response = crate::http::responses::Moved),
    )
)]
#[get("/articles/{id_or_slug}/translations")]
pub async fn translations(
    state: web::Data<AppState>,
    staff: MaybeStaff,
    key: Key,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let viewer = staff.0;
    let site = state.site.clone();
    let k = key.clone();
    let result = state
        .db
        .read(move |conn| around::translations(conn, &k, viewer, &site))
        .await
        .map(|list| HttpResponse::Ok().json(Listing::of(list)));
    or_moved(&state, &req, &key, viewer, renamed_article, result).await
}

/// Published articles in the same language that share the most tags with this one,
/// then those in its section, newest first among equals; never the article itself.
#[utoipa::path(
    tag = "Articles",
    params(Key, LimitParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Related articles, best first", body = Listing<Article>),
        (status = 308, response = crate::http::responses::Moved),
    )
)]
#[get("/articles/{id_or_slug}/related")]
pub async fn related(
    state: web::Data<AppState>,
    staff: MaybeStaff,
    key: Key,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    around_article(&state, staff, key, &req, around::related).await
}

/// "Read next": the newest published articles in the same section and language,
/// leaving out this article and the `limit` articles `/related` gives for it.
#[utoipa::path(
    tag = "Articles",
    params(Key, LimitParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Articles to read next, newest first", body = Listing<Article>),
        (status = 308, response = crate::http::responses::Moved),
    )
)]
#[get("/articles/{id_or_slug}/next")]
pub async fn read_next(
    state: web::Data<AppState>,
    staff: MaybeStaff,
    key: Key,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    around_article(&state, staff, key, &req, around::next).await
}

/// What related stories and "read next" depend on: the public stories of the article's
/// language (a new one there may join them; a draft or a story in another language
/// never does).
fn stories_of_language(language: String) -> Dependencies {
    Dependencies::Filters {
        sections: None,
        tags: None,
        author: None,
        region: None,
        lang: Some(language),
        featured: None,
        after: None,
        before: None,
    }
}

/// A list of the articles around one, with its language: `around::related` or
/// `around::next`.
type AroundList =
    fn(&mut DbConn, &Key, Option<Actor>, i64, &Site) -> AppResult<(Vec<Article>, String)>;

/// A short list of articles around one (`/related`, `/next`), `limit` long.
async fn around_article(
    state: &AppState,
    staff: MaybeStaff,
    key: Key,
    req: &HttpRequest,
    list: AroundList,
) -> AppResult<HttpResponse> {
    let limit = parse_limit(req.query_string())?;
    let viewer = staff.0;
    let site = state.site.clone();
    let k = key.clone();
    let result = state
        .db
        .read(move |conn| list(conn, &k, viewer, limit, &site))
        .await
        .map(|(list, language)| {
            let mut res = HttpResponse::Ok().json(Listing::of(list));
            res.extensions_mut()
                .insert(ListDependencies(stories_of_language(language)));
            res
        });
    or_moved(state, req, &key, viewer, renamed_article, result).await
}

/// The most viewed published articles of the last 24 hours, 7 days or 30 days, counted
/// by the hour from view beacons. A beacon shows here within a few seconds.
#[utoipa::path(
    tag = "Articles",
    params(MostReadParams),
    responses(
        (status = 200, description = "Most viewed first", body = MostRead),
    )
)]
#[get("/articles/most-read")]
pub async fn most_read(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    let query = MostReadQuery::parse(req.query_string(), &state.config.languages)?;
    let site = state.site.clone();
    let list = state
        .db
        .read(move |conn| crate::domain::views::most_read(conn, &query, &site))
        .await?;
    let mut res = HttpResponse::Ok().json(list);
    // Views move the ranking without a content write: never serve it from memory.
    res.extensions_mut().insert(Uncacheable);
    Ok(res)
}

/// Counts a view of a published article (a beacon: anonymous, no body). Views are
/// added up in memory and written about once a second; a graceful stop writes the
/// rest. Each client address may send 20 at once, then one every 3 seconds (429
/// beyond that).
#[utoipa::path(
    tag = "Articles",
    params(Key),
    responses(
        (status = 204, description = "Counted"),
        (status = 429, response = crate::http::responses::RateLimited),
    )
)]
#[post("/articles/{id_or_slug}/views")]
pub async fn record_view(
    state: web::Data<AppState>,
    key: Key,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let address = crate::http::client::client_address(&req, &state.config.trusted_proxies);
    state
        .throttles
        .views_by_address
        .hit(&address)
        .map_err(|retry_after_seconds| AppError::RateLimited {
            retry_after_seconds,
        })?;
    let id = state
        .db
        .read(move |conn| Ok(articles::find_head(conn, &key, None)?.id))
        .await?;
    state.views.add(id);
    Ok(HttpResponse::NoContent().finish())
}
