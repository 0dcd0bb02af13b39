#!/usr/bin/env bash
# Generate the seed corpus for the `probe` fuzz target: one tiny file of each
# container the probe accepts, plus the usual broken shapes. Nothing is committed;
# the whole corpus is ~50 KB and takes a few seconds to make.
#   fuzz/seed-corpus.sh [DIR]     (default: fuzz/corpus/probe)
set -euo pipefail
out="${1:-$(dirname "$0")/corpus/probe}"
mkdir -p "$out"
ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }
video="testsrc2=size=64x48:rate=10:duration=0.5"
tone="sine=frequency=440:sample_rate=8000:duration=0.5"

ff -f lavfi -i "$video" -f lavfi -i "$tone" -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
  -c:a aac -b:a 16k "$out/h264-aac.mp4"
ff -f lavfi -i "$video" -c:v libx264 -preset ultrafast -pix_fmt yuv420p -movflags +faststart \
  "$out/h264-faststart.mp4"
# MediaRecorder-style: written to a pipe, so no duration and no cues.
ff -f lavfi -i "$video" -f lavfi -i "$tone" -c:v libvpx-vp9 -deadline realtime -cpu-used 8 \
  -b:v 50k -c:a libopus -b:a 16k -f webm pipe:1 >"$out/vp9-opus.webm"
ff -f lavfi -i "$video" -c:v libvpx -deadline realtime -b:v 50k "$out/vp8.webm"
ff -f lavfi -i "$video" -f lavfi -i "$tone" -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
  -c:a libvorbis "$out/h264-vorbis.mkv"
ff -f lavfi -i "$video" -c:v libx264 -preset ultrafast -pix_fmt yuv420p -f mpegts "$out/h264.ts"
ff -f lavfi -i "$video" -c:v mpeg4 -q:v 20 "$out/mpeg4.avi"
ff -f lavfi -i "$video" -c:v flv1 -q:v 20 "$out/flv1.flv"
ff -f lavfi -i "$video" -c:v libtheora -q:v 1 "$out/theora.ogv"
ff -f lavfi -i "$video" -c:v mpeg2video -q:v 20 -f vob "$out/mpeg2.mpg"
# Audio only (refused: no video).
ff -f lavfi -i "$tone" -c:a aac -b:a 16k "$out/audio-only.m4a"

# Broken shapes: a truncated MP4 (moov at the end, so it is lost), a truncated
# WebM, and random bytes.
full="$out/h264-aac.mp4"
head -c "$(($(stat -c %s "$full") / 2))" "$full" >"$out/truncated.mp4"
head -c "$(($(stat -c %s "$out/vp9-opus.webm") / 3))" "$out/vp9-opus.webm" >"$out/truncated.webm"
head -c 2048 /dev/urandom >"$out/random.bin"
du -cb "$out"/* | tail -n 1 | sed "s|total|bytes in $out|"
