#!/usr/bin/env bash
# One command from a fresh clone to a running Bulletin on the embedded default
# (SQLite + a local data folder): system packages, release build, whisper model, serve.
# Extra arguments go to `bulletin serve` (e.g. --listen 0.0.0.0:8080 --data-dir /srv/bulletin).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --locked
bin="${CARGO_TARGET_DIR:-target}/release/bulletin"
"$bin" model install
exec "$bin" serve "$@"
