#!/usr/bin/env bash
# CI step: real footage through `posecoord run --detector hog`. Builds the short vtest.avi clip
# (ops/real/make_archive.sh; Debian's opencv-doc) and a video with nobody in it, annotates them
# twice and checks: every frame of the clip has people, every keypoint lies in its person's box
# (grown as the model's crop grows it), the reruns are byte-identical, and the empty video is done
# with no annotations. Skips visibly where the video cannot be fetched or python3 is missing.
# BIN: folder of the release posecoord (default: swift's bin path).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v python3 >/dev/null; then echo "skipped: the real-clip check reads JSON with python3, not installed"; exit 0; fi
bin="${BIN:-$(swift build -c release --show-bin-path)}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/posecluster-real.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cache="${POSECLUSTER_CACHE:-$HOME/.cache/posecluster}"
if ! bash ops/real/fetch_vtest.sh "$cache" 2>"$tmp/fetch.log"; then
  echo "skipped: vtest.avi could not be fetched from Debian's opencv-doc: $(tail -1 "$tmp/fetch.log")"
  exit 0
fi
mkdir -p "$tmp/real/source" && cp "$cache/vtest.avi" "$tmp/real/source/"
bash ops/real/make_archive.sh "$tmp/real" 30 >/dev/null
weights="$(bash ops/real/weights.sh)"
echo "weights: $weights"
mkdir -p "$tmp/archive" && cp "$tmp/real/clip/vtest_clip.mp4" "$tmp/real/empty/empty_street.mp4" "$tmp/archive/"
for run in 1 2; do
  "$bin/posecoord" run --archive "$tmp/archive" --out "$tmp/out$run" --weights "$weights" --threads 2 \
    --detector hog --detect-every 5 --detector-threads 2 2>&1 | tail -1
done
cmp "$tmp/out1/vtest_clip.json" "$tmp/out2/vtest_clip.json"
cmp "$tmp/out1/empty_street.json" "$tmp/out2/empty_street.json"
python3 ops/real/check_annotations.py "$tmp/out1" vtest_clip 30 empty_street 20
echo "ok: the rerun is byte-identical"
