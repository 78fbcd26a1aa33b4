//! Integration tests: the real HTTP app, in-process, over a fresh SQLite file per test.

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
mod invalidation;
mod lists;
mod openapi;
mod owasp;
mod promises;
mod queries;
mod reader;
mod resources;
mod search;
mod security;
mod seed;
mod stream;
mod text;
mod urls;
mod users;
mod visibility;
