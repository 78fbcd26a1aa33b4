//! `/healthz` and the OpenAPI document.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::sqlite;
use crate::error::{AppError, AppResult};
use crate::http::cache::Uncacheable;
use crate::http::state::AppState;

/// Body of a healthy `/healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

/// The served OpenAPI document, rendered once at start-up.
#[derive(Debug, Clone)]
pub struct OpenApiJson(pub web::Bytes);

/// Whether the service and its database answer.
#[utoipa::path(
    tag = "Service",
    responses(
        (status = 200, description = "The database answers", body = Health),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    state
        .db
        .read(sqlite::ping)
        .await
        .map_err(|_| AppError::Unavailable("the database does not answer".into()))?;
    let mut res = HttpResponse::Ok().json(Health {
        status: "ok".into(),
    });
    res.extensions_mut().insert(Uncacheable);
    Ok(res)
}

/// This document: OpenAPI 3.1, generated from the code.
#[utoipa::path(
    tag = "Service",
    responses((status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json"))
)]
#[get("/openapi.json")]
pub async fn openapi_json(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}
