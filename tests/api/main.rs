//! Integration tests: the real HTTP app, in-process, over a fresh SQLite file per test.

mod common;

mod auth;
mod authors;
mod errors;
mod openapi;
mod users;
