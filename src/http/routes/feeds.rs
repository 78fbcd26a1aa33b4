//! RSS feeds and sitemaps: XML for feed readers, aggregators and search engines, with
//! absolute links built from `PUBLIC_BASE_URL` and `ARTICLE_URL_TEMPLATE`. ETags, 304s
//! and caching work as on every other read.

use actix_web::{HttpResponse, get, http::header, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::feeds::{self, FeedScope};
use crate::error::{AppError, AppResult};
use crate::http::cache::Uncacheable;
use crate::http::state::AppState;

const RSS: &str = "application/rss+xml; charset=utf-8";
const XML: &str = "application/xml; charset=utf-8";

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(language_feed)
        .service(section_feed)
        .service(tag_feed)
        .service(sitemap)
        .service(sitemap_child)
        .service(news_sitemap);
}

fn check_language(state: &AppState, lang: &str) -> AppResult<()> {
    if state.config.languages.iter().any(|l| l == lang) {
        Ok(())
    } else {
        Err(AppError::not_found("feed"))
    }
}

async fn serve_feed(
    state: web::Data<AppState>,
    lang: String,
    scope: FeedScope,
    self_path: String,
) -> AppResult<HttpResponse> {
    check_language(&state, &lang)?;
    let site = state.site.clone();
    let xml = state
        .db
        .read(move |conn| feeds::feed(conn, &site, &lang, &scope, &self_path))
        .await?;
    Ok(HttpResponse::Ok().content_type(RSS).body(xml))
}

/// The newest 50 published articles in a language, as RSS 2.0 with the full body
/// (`content:encoded`), bylines (`dc:creator`) and the hero image as Media RSS with its
/// caption and credit.
#[utoipa::path(
    tag = "Feeds",
    params(("lang" = String, Path, description = "A configured language, such as `en`")),
    responses(
        (status = 200, description = "An RSS 2.0 feed", body = String, content_type = "application/rss+xml"),
    )
)]
#[get("/feeds/{lang}.xml")]
pub async fn language_feed(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let lang = path.into_inner();
    let self_path = format!("/feeds/{lang}.xml");
    serve_feed(state, lang, FeedScope::Language, self_path).await
}

/// The newest 50 published articles of a section (and its child sections) in a
/// language, as RSS 2.0.
#[utoipa::path(
    tag = "Feeds",
    params(
        ("lang" = String, Path, description = "A configured language, such as `en`"),
        ("slug" = String, Path, description = "The section's slug"),
    ),
    responses(
        (status = 200, description = "An RSS 2.0 feed", body = String, content_type = "application/rss+xml"),
    )
)]
#[get("/feeds/{lang}/sections/{slug}.xml")]
pub async fn section_feed(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (lang, slug) = path.into_inner();
    let self_path = format!("/feeds/{lang}/sections/{slug}.xml");
    serve_feed(state, lang, FeedScope::Section(slug), self_path).await
}

/// The newest 50 published articles with a tag in a language, as RSS 2.0.
#[utoipa::path(
    tag = "Feeds",
    params(
        ("lang" = String, Path, description = "A configured language, such as `en`"),
        ("slug" = String, Path, description = "The tag's slug"),
    ),
    responses(
        (status = 200, description = "An RSS 2.0 feed", body = String, content_type = "application/rss+xml"),
    )
)]
#[get("/feeds/{lang}/tags/{slug}.xml")]
pub async fn tag_feed(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (lang, slug) = path.into_inner();
    let self_path = format!("/feeds/{lang}/tags/{slug}.xml");
    serve_feed(state, lang, FeedScope::Tag(slug), self_path).await
}

/// The sitemap index for search engines: one child sitemap per block of 2,500
/// article ids that holds a published story (`/sitemaps/articles-{n}.xml`, on
/// `PUBLIC_BASE_URL`), so an archive of any size stays within the protocol's limits
/// (50,000 URLs per sitemap, 50,000 sitemaps per index). Each child carries
/// `<lastmod>`, the last time its list changed (a story in its block published, edited,
/// taken down, trashed, going live or expiring; an edition of one of its stories
/// changing; a section renamed), so a crawler fetches only the children that changed.
#[utoipa::path(
    tag = "Feeds",
    responses((status = 200, description = "A sitemap index (`sitemapindex`)", body = String, content_type = "application/xml"))
)]
#[get("/sitemap.xml")]
pub async fn sitemap(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let site = state.site.clone();
    let index = state
        .db
        .read(move |conn| feeds::sitemap_index(conn, &site))
        .await?;
    Ok(dated(index))
}

/// A `200` of XML with its `Last-Modified`, where its time is known: crawlers that
/// send `If-Modified-Since` rather than `If-None-Match` are answered `304` until it
/// changes.
fn dated(feed: feeds::Dated) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.content_type(XML);
    if let Some(at) = feed.changed {
        res.insert_header((header::LAST_MODIFIED, at.to_http_date()));
    }
    res.body(feed.xml)
}

/// One child sitemap of the index: the published articles whose ids are
/// `(n-1)·2,500 + 1` to `n·2,500` (at most 2,500 URLs), each with its other
/// editions as `xhtml:link rel="alternate" hreflang`. A block with no published story,
/// or an `n` that is not a positive number, is 404.
#[utoipa::path(
    tag = "Feeds",
    params(("n" = String, Path, description = "The child's number, from 1, as the index names it")),
    responses((status = 200, description = "A sitemap (`urlset`)", body = String, content_type = "application/xml"))
)]
#[get("/sitemaps/articles-{n}.xml")]
pub async fn sitemap_child(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let n = path.into_inner();
    // Digits only, without a sign or leading zeros: one address per child.
    let number = (!n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit()))
        .then(|| n.parse::<i32>().ok())
        .flatten()
        .ok_or_else(|| AppError::not_found("sitemap"))?;
    let site = state.site.clone();
    let child = state
        .db
        .read(move |conn| feeds::sitemap_child(conn, &site, number))
        .await?
        .ok_or_else(|| AppError::not_found("sitemap"))?;
    Ok(dated(child))
}

/// Articles published in the last 48 hours, in the news-sitemap format (publication
/// name from `PUBLICATION_NAME`).
#[utoipa::path(
    tag = "Feeds",
    responses((status = 200, description = "A news sitemap", body = String, content_type = "application/xml"))
)]
#[get("/sitemap-news.xml")]
pub async fn news_sitemap(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let site = state.site.clone();
    let xml = state
        .db
        .read(move |conn| feeds::news_sitemap(conn, &site))
        .await?;
    let mut res = HttpResponse::Ok().content_type(XML).body(xml);
    // Its window slides with the clock, which no content write marks.
    res.extensions_mut().insert(Uncacheable);
    Ok(res)
}
