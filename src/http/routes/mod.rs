//! Every route of the service, registered so that the OpenAPI document is collected
//! from them (see `crate::openapi`). One module per resource.

pub mod articles;
pub mod auth;
pub mod authors;
pub mod breaking;
pub mod collections;
pub mod feeds;
pub mod files;
pub mod media;
pub mod regions;
pub mod safety;
pub mod sections;
pub mod service;
pub mod tags;
pub mod tokens;
pub mod users;
pub mod webhooks;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Mounts every route: the service endpoints and the `/api/v1` API.
pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(service::healthz)
        .service(service::readyz)
        .service(service::livez)
        .service(service::metrics);
    cfg.configure(feeds::routes);
    cfg.configure(files::routes);
    cfg.service(
        scope::scope("/api/v1")
            .service(service::openapi_json)
            .configure(auth::routes)
            .configure(users::routes)
            .configure(articles::routes)
            .configure(authors::routes)
            .configure(tags::routes)
            .configure(sections::routes)
            .configure(regions::routes)
            .configure(media::routes)
            .configure(breaking::routes)
            .configure(collections::routes)
            .configure(safety::routes)
            .configure(tokens::routes)
            .configure(webhooks::routes),
    );
}
