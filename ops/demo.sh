#!/usr/bin/env bash
# The first command to run on a fresh machine: installs what is missing, builds release, makes a
# small synthetic archive, annotates it with a coordinator and two workers on loopback
# (`posecoord serve` + `poseworker join`), and scores the result against the archive's ground
# truth with `posecoord eval`. Everything goes under ./demo-out (or DEMO_OUT).
#
#   bash ops/demo.sh                          # 4 videos x 24 frames, 320x240, 2 workers
#   DEMO_VIDEOS=10 DEMO_WORKERS=3 bash ops/demo.sh
#   WEIGHTS=ftp_pose_s.safetensors bash ops/demo.sh
#   bash ops/demo.sh --real                   # real footage (vtest.avi, HOG, BlazePose): ops/real/demo.sh
#
# The model is configs/models/demo-synth.safetensors: the small `demo` config trained on other
# synthetic archives (docs/TRAINING.md). It knows synthetic people only; bring real weights
# (WEIGHTS=...) for real videos.
set -euo pipefail
cd "$(dirname "$0")/.."
# Real footage instead (vtest.avi, HOG boxes, BlazePose): ops/real/demo.sh.
if [ "${1:-}" = "--real" ]; then exec bash ops/real/demo.sh; fi
export PATH="/opt/swift/usr/bin:$PATH"
out="${DEMO_OUT:-$PWD/demo-out}"
videos="${DEMO_VIDEOS:-4}"
frames="${DEMO_FRAMES:-24}"
workers="${DEMO_WORKERS:-2}"
weights="${WEIGHTS:-configs/models/demo-synth.safetensors}"
# Extra build flags (ops/test.sh passes its own so the demo reuses the test build).
read -r -a build_flags <<< "${SWIFT_BUILD_FLAGS:-}"

bash ops/install-deps.sh
echo "== building (release)"
swift build -c release "${build_flags[@]}"
bin="$(swift build -c release "${build_flags[@]}" --show-bin-path)"

echo "== synthetic archive: $videos videos x $frames frames"
rm -rf "$out/archive" "$out/poses"
"$bin/posecoord" synth --out "$out/archive" --videos "$videos" --frames "$frames" --seed 0

echo "== annotating: a coordinator and $workers workers on 127.0.0.1"
BIN="$bin" THREADS=1 cluster/local.sh "$out/archive" "$out/poses" "$workers" -- --weights "$weights"

echo
echo "== accuracy against the synthetic ground truth (posecoord eval)"
"$bin/posecoord" eval --gt "$out/archive/annotations" --pred "$out/poses" --json "$out/eval.json"

echo
echo "Done."
echo "  videos + detections : $out/archive/*.mp4, *.dets.json, *.txt, *.json"
echo "  ground truth        : $out/archive/annotations/*.json (PoseTrack 2018)"
echo "  predicted poses     : $out/poses/*.json (PoseTrack 2018)"
echo "  job report          : $out/poses/_posecluster/job.json"
echo "  accuracy            : $out/eval.json"
