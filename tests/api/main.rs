//! Black-box tests: the real `bulletin` binary, started on port 0 with its own
//! data folder (and its own PostgreSQL schema and S3 bucket in the suite's
//! second pass), driven over HTTP, the command line and a headless browser.
//! One binary, one module per area, so the harness compiles once:
//! `cargo test --test api -- tus::` runs one area.

mod support;

mod accounts;
mod browser;
mod channels;
mod deletion;
mod door;
mod faults;
mod hardening;
mod load;
mod media_redirect;
mod people;
mod pipeline;
mod privacy;
mod processes;
mod progress;
mod rejections;
mod replies;
mod scale_out;
mod tus;
mod vocabulary;
