//! `/files/…`: uploaded originals and their renditions, by content hash. Anyone holding
//! a file's URL may fetch it (previews and CDNs work); its name says what its bytes are,
//! so it is cached for a year as immutable, with a strong ETag made of the name, byte
//! ranges (206, 416) and `If-None-Match` (304). Only names newsdesk makes are looked up:
//! no listing, no other path.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppError, AppResult};
use crate::files::{FileName, Files, FilesError, mime_of};
use crate::http::state::AppState;

/// `Cache-Control` of every file.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(original).service(rendition);
}

/// What a file read answers (for the OpenAPI document).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum Served {
    /// The file
    #[response(status = 200, content_type = "image/*",
        headers(("ETag" = String), ("Cache-Control" = String), ("Accept-Ranges" = String)))]
    Whole(#[to_schema] Vec<u8>),
    /// The byte range asked for
    #[response(status = 206, content_type = "image/*", headers(("Content-Range" = String)))]
    Part(#[to_schema] Vec<u8>),
    /// Not modified
    #[response(status = 304)]
    NotModified,
    /// The range is outside the file
    #[response(status = 416, content_type = "application/problem+json",
        headers(("Content-Range" = String)))]
    Outside(crate::error::Problem),
}

/// An uploaded image as stored: metadata removed, upright.
#[utoipa::path(
    tag = "Media",
    params(("name" = String, Path,
        description = "`<sha256>.<ext>`, as in a media item's `url`")),
    responses(Served)
)]
#[get("/files/{name}")]
pub async fn original(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
) -> AppResult<HttpResponse> {
    let name = FileName::parse(&name).ok_or_else(|| AppError::not_found("file"))?;
    serve(&state.files, &req, name).await
}

/// A rendition of an uploaded image (`<width>.webp` or `<width>.jpg`).
#[utoipa::path(
    tag = "Media",
    params(
        ("sha256" = String, Path, description = "The original's SHA-256"),
        ("rendition" = String, Path, description = "`<width>.webp` or `<width>.jpg`"),
    ),
    responses(Served)
)]
#[get("/files/{sha256}/{rendition}")]
pub async fn rendition(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (sha, file) = path.into_inner();
    let name =
        FileName::parse(&format!("{sha}/{file}")).ok_or_else(|| AppError::not_found("file"))?;
    serve(&state.files, &req, name).await
}

fn matches(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

fn not_found(e: FilesError) -> AppError {
    match e {
        FilesError::NotFound => AppError::not_found("file"),
        other => other.into(),
    }
}

async fn serve(files: &Files, req: &HttpRequest, name: FileName) -> AppResult<HttpResponse> {
    let etag = name.etag();
    let mime = mime_of(name.ext);
    if matches(req, &etag) && files.exists(&name).await? {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, IMMUTABLE))
            .finish());
    }
    let mut res = match files.local_path(&name) {
        Some(path) => {
            // Opening is one system call; the reads happen off the worker.
            let file = actix_files::NamedFile::open(&path)
                .map_err(|_| AppError::not_found("file"))?
                .use_etag(false)
                .use_last_modified(false)
                .disable_content_disposition()
                .set_content_type(actix_files::file_extension_to_mime(name.ext));
            let size = file.metadata().len();
            let res = file.into_response(req);
            if res.status() == StatusCode::RANGE_NOT_SATISFIABLE {
                return Err(AppError::RangeNotSatisfiable { size });
            }
            res
        }
        None => from_store(files, req, &name, mime).await?,
    };
    let served = matches!(res.status(), StatusCode::OK | StatusCode::PARTIAL_CONTENT);
    let headers = res.headers_mut();
    if served {
        headers.insert(
            header::ETAG,
            HeaderValue::from_str(&etag).map_err(|_| AppError::not_found("file"))?,
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    } else {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

/// A file from an S3 store: whole, or the one range asked for.
async fn from_store(
    files: &Files,
    req: &HttpRequest,
    name: &FileName,
    mime: &'static str,
) -> AppResult<HttpResponse> {
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(range) = range else {
        let got = files.get(name, None).await.map_err(not_found)?;
        return Ok(HttpResponse::Ok()
            .content_type(mime)
            .insert_header((header::ACCEPT_RANGES, "bytes"))
            .body(got.bytes));
    };
    let size = files.size(name).await.map_err(not_found)?;
    let unsatisfiable = || AppError::RangeNotSatisfiable { size };
    let ranges = actix_files::HttpRange::parse(&range, size).map_err(|_| unsatisfiable())?;
    // One range is served; a request for several gets the first (as actix-files does).
    let first = ranges
        .first()
        .filter(|r| r.length > 0)
        .ok_or_else(unsatisfiable)?;
    let end = first.start + first.length;
    let got = files
        .get(name, Some(first.start..end))
        .await
        .map_err(not_found)?;
    Ok(HttpResponse::build(StatusCode::PARTIAL_CONTENT)
        .content_type(mime)
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{}", first.start, end - 1, got.total),
        ))
        .body(got.bytes))
}
