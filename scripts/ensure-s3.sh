#!/usr/bin/env bash
# An S3-compatible server for the test suite: s3s-fs, built once into
# target/tools, started on a free loopback port with its data under target/.
#
#   scripts/ensure-s3.sh install   only make sure the binary is there
#   eval "$(scripts/ensure-s3.sh)" install if needed, start one, export
#                                  BULLETIN_TEST_S3_ENDPOINT (+ keys), S3S_PID, S3S_DATA
#
# The caller stops it (kill "$S3S_PID") and may remove "$S3S_DATA"; its log is
# target/s3s/s3s-fs.log.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.14.1 # 0.17 needs a newer rustc than the one we build with
tools="$PWD/target/tools"
exe="$tools/bin/s3s-fs"

if ! [ -x "$exe" ] || ! "$exe" --version 2>/dev/null | grep -q "$version"; then
  echo "installing s3s-fs $version into $tools" >&2
  cargo install --quiet --locked "s3s-fs@$version" --features binary --root "$tools" \
    --target-dir "$PWD/target/tools-build" >&2
fi
[ "${1:-start}" = install ] && exit 0

state="$PWD/target/s3s"
mkdir -p "$state"
data=$(mktemp -d "$state/data.XXXXXX")
access_key=bulletin-test
secret_key=bulletin-test-secret

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for _ in 1 2 3; do
  port=$(free_port)
  # Its output goes to a file: the caller's $(…) would otherwise wait for it to exit.
  "$exe" --host 127.0.0.1 --port "$port" --access-key "$access_key" --secret-key "$secret_key" "$data" \
    >"$state/s3s-fs.log" 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 50); do
    answers "$port" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if answers "$port"; then
    echo "s3s-fs listening on http://127.0.0.1:$port (data in $data)" >&2
    echo "export BULLETIN_TEST_S3_ENDPOINT=http://127.0.0.1:$port"
    echo "export BULLETIN_TEST_S3_ACCESS_KEY=$access_key"
    echo "export BULLETIN_TEST_S3_SECRET_KEY=$secret_key"
    echo "export S3S_PID=$pid"
    echo "export S3S_DATA=$data"
    exit 0
  fi
  kill "$pid" 2>/dev/null || true # lost the port to someone else: try another
done
echo "s3s-fs did not start; see $state/s3s-fs.log" >&2
exit 1
