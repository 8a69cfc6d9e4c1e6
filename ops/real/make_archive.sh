#!/usr/bin/env bash
# Builds small real archives from vtest.avi (fetched by fetch_vtest.sh): no detection files, so
# `posecoord run|serve --detector hog` finds the people.
#
#   bash ops/real/make_archive.sh OUT [CLIP_FRAMES]
#     OUT/full/vtest.avi          the whole video (795 frames)
#     OUT/clip/vtest_clip.mp4     its first CLIP_FRAMES frames (default 30), for CI
#     OUT/empty/empty_street.mp4  20 frames with nobody in them (a flat grey street), for the
#                                 "no people: empty annotations, status done" check
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:?usage: make_archive.sh OUT [CLIP_FRAMES]}"
clip_frames="${2:-30}"
bash ops/real/fetch_vtest.sh "$out/source"
mkdir -p "$out/full" "$out/clip" "$out/empty"
cp -f "$out/source/vtest.avi" "$out/full/vtest.avi"
# Single-threaded x264 with -bitexact: the same source gives the same clip.
ffmpeg -nostdin -v error -y -i "$out/source/vtest.avi" -frames:v "$clip_frames" -c:v libx264 -preset veryfast -crf 16 \
  -threads 1 -pix_fmt yuv420p -bitexact -map_metadata -1 "$out/clip/vtest_clip.mp4"
ffmpeg -nostdin -v error -y -f lavfi -i "color=c=0x7a7f86:s=384x288:r=10" -frames:v 20 -c:v libx264 -preset veryfast \
  -threads 1 -pix_fmt yuv420p -bitexact -map_metadata -1 "$out/empty/empty_street.mp4"
echo "real archive in $out: full/ (795 frames), clip/ ($clip_frames frames), empty/ (20 frames, nobody)"
