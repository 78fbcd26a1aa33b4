//! The HTTP layer: the app constructor used by `main` and by every test, routes,
//! extractors and middleware.

pub mod cache;
pub mod client;
pub mod compress;
pub mod conditional;
pub mod extract;
pub mod idempotency;
pub mod methods;
pub mod middleware;
pub mod moved;
pub mod precondition;
pub mod problem;
pub mod responses;
pub mod routes;
pub mod state;
pub mod throttle;
pub mod upload;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, web};
use serde::Serialize;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::error::AppError;
use routes::service::OpenApiJson;
use state::AppState;

/// The whole application: routes, docs and middleware, over the given state.
pub fn app(
    state: AppState,
    openapi_json: web::Bytes,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Response = ServiceResponse<impl MessageBody>,
        Config = (),
        InitError = (),
        Error = actix_web::Error,
    >,
> {
    let limit = state.config.max_body_bytes;
    let cors_writers = state.config.cors_allowed_origins.clone();
    let (app, doc) = App::new()
        .app_data(web::Data::new(state))
        .app_data(web::Data::new(OpenApiJson(openapi_json)))
        .app_data(web::PayloadConfig::new(limit))
        .into_utoipa_app()
        .configure(routes::register)
        .split_for_parts();
    // The docs page and its redirect use relative URLs only, so both work behind a
    // proxy that serves newsdesk under a path prefix (`/news/docs/` loads
    // `/news/api/v1/openapi.json`).
    app.service(web::redirect("/docs", "docs/"))
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                .config(SwaggerConfig::new(["../api/v1/openapi.json"]).try_it_out_enabled(true)),
        )
        .app_data(web::Data::new(methods::MethodTable::from_doc(&doc)))
        .default_service(web::to(no_route))
        .wrap(from_fn(idempotency::idempotency))
        .wrap(from_fn(conditional::conditional))
        .wrap(from_fn(compress::compress))
        .wrap(cors(&cors_writers))
        .wrap(from_fn(middleware::envelope))
}

/// CORS: any origin may read and send view beacons; only the configured origins may
/// write from a browser.
fn cors(writers: &[String]) -> actix_cors::Cors {
    let writers = writers.to_vec();
    actix_cors::Cors::default()
        .allowed_origin_fn(move |origin, head| {
            let method = if head.method == Method::OPTIONS {
                head.headers
                    .get(header::ACCESS_CONTROL_REQUEST_METHOD)
                    .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
                    .unwrap_or(Method::OPTIONS)
            } else {
                head.method.clone()
            };
            let beacon = method == Method::POST && head.uri.path().ends_with("/views");
            matches!(method, Method::GET | Method::HEAD)
                || beacon
                || writers.iter().any(|w| w.as_bytes() == origin.as_bytes())
        })
        .allowed_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            header::HeaderName::from_static(idempotency::HEADER),
            middleware::REQUEST_ID,
            header::HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::LAST_MODIFIED,
            header::RETRY_AFTER,
            middleware::REQUEST_ID,
            header::HeaderName::from_static(idempotency::REPLAYED),
        ])
        .max_age(3600)
}

/// Answers requests no route took: 405 with `Allow` for a known path, else 404.
async fn no_route(
    req: actix_web::HttpRequest,
    table: web::Data<methods::MethodTable>,
) -> HttpResponse {
    let allowed = table.allowed(req.path());
    // A method the template takes, on a path no route took (an empty segment such as a
    // trailing slash), names nothing: 404, not 405.
    if allowed.is_empty() || allowed.contains(req.method()) {
        return actix_web::ResponseError::error_response(&AppError::NotFound(
            "no such route".into(),
        ));
    }
    let allow = allowed
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut response = actix_web::ResponseError::error_response(&AppError::MethodNotAllowed);
    if let Ok(value) = header::HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// `201 Created` with a `Location` and the new resource.
pub fn created<T: Serialize>(location: String, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(body)
}
