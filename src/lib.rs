//! newsdesk: a headless CMS for multilingual newsrooms.
//!
//! Layers, from the bottom: [`error`], [`config`], [`vocab`], [`auth`] and [`workers`]
//! (usable by everything);
//! [`db`] (pools, migrations, the SQLite-only corner); [`domain`] (resources, rules,
//! queries); [`http`] (routes, extractors, middleware); [`openapi`], [`server`] and
//! [`cli`] on top.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod files;
pub mod http;
pub mod limits;
pub mod live;
pub mod memory;
pub mod metrics;
pub mod openapi;
pub mod schema;
pub mod seed;
pub mod server;
pub mod transfer;
pub mod vocab;
pub mod webhooks;
pub mod workers;
