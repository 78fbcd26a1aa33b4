//! The HTTP layer: the app constructor used by `main` and by every test, routes,
//! extractors and middleware.

pub mod extract;
pub mod methods;
pub mod middleware;
pub mod params;
pub mod problem;
pub mod routes;
pub mod state;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
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
    let (app, doc) = App::new()
        .app_data(web::Data::new(state))
        .app_data(web::Data::new(OpenApiJson(openapi_json)))
        .app_data(web::PayloadConfig::new(limit))
        .into_utoipa_app()
        .configure(routes::register)
        .split_for_parts();
    app.service(web::redirect("/docs", "/docs/"))
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                .config(SwaggerConfig::new(["/api/v1/openapi.json"]).try_it_out_enabled(true)),
        )
        .app_data(web::Data::new(methods::MethodTable::from_doc(&doc)))
        .default_service(web::to(no_route))
        .wrap(actix_web::middleware::from_fn(middleware::envelope))
}

/// Answers requests no route took: 405 with `Allow` for a known path, else 404.
async fn no_route(
    req: actix_web::HttpRequest,
    table: web::Data<methods::MethodTable>,
) -> HttpResponse {
    let allowed = table.allowed(req.path());
    if allowed.is_empty() {
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
