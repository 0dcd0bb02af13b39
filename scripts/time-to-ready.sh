#!/usr/bin/env bash
# Measure upload → ready for a 1-minute and a 3-minute spoken update on this
# machine, with the release binary on a fresh data folder (the README's figures).
# Usage: scripts/time-to-ready.sh   (after scripts/run.sh has built and installed once)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q
bin="${CARGO_TARGET_DIR:-target}/release/bulletin"
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

sentences=(
  "Good morning everyone, here is the weekly update from the platform team."
  "We finished the migration of the billing service to the new cluster on Tuesday."
  "Latency at the ninety ninth percentile dropped from four hundred to one hundred and twenty milliseconds."
  "Next week we start the search project, so please send me your questions about the roadmap."
  "Hiring is going well, and two new engineers join us at the beginning of next month."
  "Remember that the quarterly planning review moves to Thursday afternoon."
)
make_video() { # seconds name
  local seconds=$1 name=$2 text="" i=0
  # espeak-ng speaks about 2.5 words per second at 150 wpm; overshoot, then cut.
  while ((${#text} < seconds * 17)); do text+="${sentences[i % ${#sentences[@]}]} "; i=$((i + 1)); done
  espeak-ng -s 150 -w "$work/$name.wav" "$text"
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc=size=1280x720:rate=30" -i "$work/$name.wav" \
    -t "$seconds" -map 0:v -map 1:a -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -movflags +faststart "$work/$name.mp4"
}
make_video 60 one-minute
make_video 175 three-minutes

"$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/serve.out" 2>"$work/serve.log" &
server=$!
for _ in $(seq 100); do grep -q "listening on" "$work/serve.out" && break; sleep 0.1; done
url=$(sed -n 's/^bulletin listening on //p' "$work/serve.out")

for name in one-minute three-minutes; do
  start=$(date +%s.%N)
  "$bin" post "$work/$name.mp4" --title "$name" --server "$url" >/dev/null
  end=$(date +%s.%N)
  printf '%-14s %6.1f s upload → ready\n' "$name" "$(echo "$end - $start" | bc)"
done
