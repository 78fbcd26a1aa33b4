//! `newsdesk seed`: a believable demo newsroom (`--demo`), or many synthetic articles
//! fast (`--articles N`) for benchmarks. All text is written for this project.

pub mod bulk;
pub mod demo;
mod taxonomy;

pub use taxonomy::ensure_taxonomy;
