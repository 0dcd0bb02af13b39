#!/usr/bin/env bash
# One command from a fresh clone to a running Bulletin on the embedded default
# (SQLite + a local data folder): system packages, build, whisper model, serve.
# Extra arguments go to `bulletin serve` (e.g. --listen 0.0.0.0:8080 --data-dir /srv/bulletin).
#
# It builds the dev profile, the one the test suite builds too: dependencies
# (FFmpeg and whisper glue, tantivy, sqlx, axum) are optimised there as in a
# release build, so serving from it is quick, and `scripts/test.sh` afterwards
# reuses most compiled dependencies. A production install builds
# `cargo build --release` (README, "Deploying").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --locked --bins
bin="${CARGO_TARGET_DIR:-target}/debug/bulletin"
"$bin" model install
exec "$bin" serve "$@"
