//! Integration tests: the real HTTP app, in-process, over a fresh SQLite file per test.

mod common;

mod articles;
mod auth;
mod authors;
mod breaking;
mod cache;
mod errors;
mod http;
mod lists;
mod openapi;
mod queries;
mod resources;
mod seed;
mod users;
