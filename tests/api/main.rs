//! Integration tests: the real HTTP app, in-process, over a fresh database per test (a SQLite file, or a PostgreSQL database when NEWSDESK_TEST_DATABASE_URL names a server).

mod common;

mod articles;
mod auth;
mod authors;
mod backup;
mod breaking;
mod cache;
mod concurrency;
mod database;
mod errors;
mod faults;
mod feeds;
mod http;
mod instances;
mod integrations;
mod invalidation;
mod lists;
mod localized;
mod openapi;
mod owasp;
mod promises;
mod queries;
mod reader;
mod resources;
mod safety;
mod search;
mod security;
mod seed;
mod stream;
mod text;
mod transfer;
mod uploads;
mod urls;
mod users;
mod visibility;
