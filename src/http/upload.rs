//! Reading a `multipart/form-data` upload: the `file` part spooled to an unnamed
//! temporary file as it arrives (never held whole in memory while the request is
//! read), refused with 413 the moment it passes `MEDIA_MAX_BYTES`; the text parts
//! (`caption`, `credit`, `alt_text`, `language`, `focal_point` as `"x,y"`,
//! `localized` as JSON) gathered into the same body a JSON create has.

use std::io::Write;

use actix_web::{HttpRequest, web};
use futures_util::StreamExt;

use super::extract::{BODY_IDLE_TIMEOUT, MULTIPART_OVERHEAD};
use crate::domain::input::Input;
use crate::domain::media::{FocalPoint, MediaCreate};
use crate::error::{AppError, AppResult, FieldError};

/// Longest a whole upload may take to arrive (20 MiB at 35 KB/s).
pub const UPLOAD_TOTAL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);
/// Largest text part.
const MAX_TEXT_PART: usize = 64 * 1024;

/// An upload as read: the spooled file and the text parts as a create body.
#[derive(Debug)]
pub struct Form {
    pub file: Option<std::fs::File>,
    pub body: MediaCreate,
}

/// The next item of a part or of the form, within the idle timeout and the deadline.
async fn next_within<S, T, E>(
    stream: &mut S,
    deadline: tokio::time::Instant,
) -> AppResult<Option<T>>
where
    S: futures_util::Stream<Item = Result<T, E>> + Unpin,
    E: std::fmt::Display,
{
    let wait = (tokio::time::Instant::now() + BODY_IDLE_TIMEOUT).min(deadline);
    match tokio::time::timeout_at(wait, stream.next()).await {
        Err(_) => Err(AppError::RequestTimeout(
            "the upload arrived too slowly".into(),
        )),
        Ok(None) => Ok(None),
        Ok(Some(item)) => item.map(Some).map_err(malformed),
    }
}

fn malformed(e: impl std::fmt::Display) -> AppError {
    AppError::bad_param("body", format!("the multipart body is malformed: {e}"))
}

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::Validation(vec![FieldError::new(field, message)])
}

/// Reads the form; see the module documentation.
pub async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    max_bytes: u64,
) -> AppResult<Form> {
    let too_large = || AppError::PayloadTooLarge {
        limit: usize::try_from(max_bytes).unwrap_or(usize::MAX),
    };
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_bytes + MULTIPART_OVERHEAD) {
        return Err(too_large());
    }
    let deadline = tokio::time::Instant::now() + UPLOAD_TOTAL_TIMEOUT;
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut form = Form {
        file: None,
        body: MediaCreate::default(),
    };
    while let Some(mut part) = next_within(&mut parts, deadline).await? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == "file" {
            if form.file.is_some() {
                return Err(invalid("file", "send one file per request"));
            }
            let mut spool = tempfile::tempfile()
                .map_err(|e| AppError::Internal(format!("cannot spool the upload: {e}")))?;
            let mut size: u64 = 0;
            while let Some(chunk) = next_within(&mut part, deadline).await? {
                size += chunk.len() as u64;
                if size > max_bytes {
                    return Err(too_large());
                }
                spool
                    .write_all(&chunk)
                    .map_err(|e| AppError::Unavailable(format!("cannot spool the upload: {e}")))?;
            }
            form.file = Some(spool);
            continue;
        }
        let mut text = Vec::new();
        while let Some(chunk) = next_within(&mut part, deadline).await? {
            if text.len() + chunk.len() > MAX_TEXT_PART {
                return Err(invalid(
                    &name,
                    format!("is longer than {MAX_TEXT_PART} bytes"),
                ));
            }
            text.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(text).map_err(|_| invalid(&name, "must be UTF-8 text"))?;
        take_text(&mut form.body, &name, text)?;
    }
    Ok(form)
}

/// Puts one text part into the create body; an empty part counts as not sent.
fn take_text(body: &mut MediaCreate, name: &str, text: String) -> AppResult<()> {
    let twice = || invalid(name, "was sent more than once");
    if text.is_empty() {
        return Ok(());
    }
    match name {
        "caption" | "credit" | "alt_text" | "language" => {
            let slot = match name {
                "caption" => &mut body.caption,
                "credit" => &mut body.credit,
                "alt_text" => &mut body.alt_text,
                _ => &mut body.language,
            };
            if !matches!(slot, Input::Absent) {
                return Err(twice());
            }
            *slot = Input::Value(text);
        }
        "focal_point" => {
            if !matches!(body.focal_point, Input::Absent) {
                return Err(twice());
            }
            body.focal_point = match text
                .split_once(',')
                .map(|(x, y)| (x.trim().parse(), y.trim().parse()))
            {
                Some((Ok(x), Ok(y))) => Input::Value(FocalPoint { x, y }),
                _ => {
                    Input::Invalid("expected \"x,y\" with each from 0 to 1, such as 0.5,0.3".into())
                }
            };
        }
        "localized" => {
            if !matches!(body.localized, Input::Absent) {
                return Err(twice());
            }
            body.localized = match serde_json::from_str(&text) {
                Ok(value) => Input::Value(value),
                Err(_) => Input::Invalid("expected a JSON object of languages".into()),
            };
        }
        other => {
            body.unknown
                .insert(other.to_owned(), serde_json::Value::String(text));
        }
    }
    Ok(())
}
