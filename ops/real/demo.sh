#!/usr/bin/env bash
# Real footage end to end (`bash ops/demo.sh --real` runs this): fetches OpenCV's vtest.avi
# (Debian opencv-doc) and the BlazePose-Full weights (ops/models/fetch_blazepose.sh, from
# MediaPipe's PyPI wheel; the synthetic demo model if they cannot be made), finds the people with
# the built-in HOG detector, annotates them on a coordinator and two workers on loopback, writes
# PoseTrack files and draws a few frames with their skeletons. Everything under ./demo-real
# (or DEMO_OUT).
#
#   bash ops/real/demo.sh                   # the whole video, 795 frames
#   DEMO_FRAMES=100 bash ops/real/demo.sh   # its first 100 frames
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="/opt/swift/usr/bin:$PATH"
out="${DEMO_OUT:-$PWD/demo-real}"
frames="${DEMO_FRAMES:-}"
workers="${DEMO_WORKERS:-2}"
every="${DEMO_DETECT_EVERY:-5}"
read -r -a build_flags <<< "${SWIFT_BUILD_FLAGS:-}"

bash ops/install-deps.sh
echo "== building (release)"
swift build -c release "${build_flags[@]}"
bin="$(swift build -c release "${build_flags[@]}" --show-bin-path)"

echo "== real archive from vtest.avi"
bash ops/real/make_archive.sh "$out/real" "${frames:-30}"
rm -rf "$out/archive" "$out/poses" "$out/frames"
mkdir -p "$out/archive" "$out/frames"
if [ -n "$frames" ]; then cp "$out/real/clip/vtest_clip.mp4" "$out/archive/vtest.mp4"; else cp "$out/real/full/vtest.avi" "$out/archive/"; fi
video="$(ls "$out/archive"/vtest.*)"
# A street with nobody in it: done, with empty annotations.
cp "$out/real/empty/empty_street.mp4" "$out/archive/"

echo "== weights"
weights="$(bash ops/real/weights.sh)"
echo "$weights"

echo "== annotating: HOG boxes every $every frames, a coordinator and $workers workers on 127.0.0.1"
BIN="$bin" THREADS=1 cluster/local.sh "$out/archive" "$out/poses" "$workers" -- --weights "$weights" --detector hog --detect-every "$every"

echo "== drawing frames (posecoord render)"
count="$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$video")"
name="$(basename "${video%.*}")"
for f in 0 $((count / 3)) $((2 * count / 3)); do
  "$bin/posecoord" render --archive "$out/archive" --poses "$out/poses" --to "$out/frames" --video "$name" --frames "$f:$((f + 1))"
done

echo
echo "Done."
echo "  video          : $video"
echo "  poses          : $out/poses/$name.json, empty_street.json (PoseTrack 2018)"
echo "  job report     : $out/poses/_posecluster/job.json"
echo "  drawn frames   : $out/frames/$name/*.png"
