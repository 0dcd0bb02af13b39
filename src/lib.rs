//! # Bulletin: a self-hosted hub for asynchronous video updates
//!
//! A leader posts a short update video; workers transcode it, transcribe it
//! locally with whisper.cpp and index the transcript; teammates watch, skim
//! and search it.
//!
//! ## Layout
//! - [`accounts`]: people, passwords and API tokens: who is asking.
//! - [`channels`]: where updates are posted, and who may post or manage there.
//! - [`config`]: defaults → TOML file → `BULLETIN_*` environment → flags.
//! - [`domain`]: ids, statuses, titles and transcript formats; no I/O.
//! - [`db`]: the metadata repository and the durable job queue (SQLite or PostgreSQL).
//! - [`storage`]: where media bytes live (a local folder or an S3-compatible bucket).
//! - [`media`]: runs the `workers` crate's FFmpeg/whisper steps in a sandboxed child process.
//! - [`resumable`]: tus uploads at rest, resumable across restarts until they expire.
//! - [`pipeline`]: the application state and use cases: accept an upload, the
//!   stage graph and each stage's work, corrections. `http` and `jobs` call it.
//! - [`jobs`]: the worker loops that claim jobs, heartbeat their leases and run stages.
//! - [`search`]: the tantivy index, kept current from the database's change feed.
//! - [`http`]: the axum API and web pages, one router per resource.
//! - [`metrics`]: Prometheus metrics recorded by this process and read from the queue and index.
//! - [`cli`]: the `bulletin` subcommands that are clients or admin tools.
//! - [`faults`]: test-only fault switches (`BULLETIN_FAULT`).
//! - [`app`]: wiring: start the server or the workers and stop them.

pub mod accounts;
pub mod app;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod disk;
pub mod domain;
pub mod faults;
pub mod http;
pub mod jobs;
pub mod media;
pub mod metrics;
pub mod pipeline;
pub mod resumable;
pub mod search;
pub mod storage;
