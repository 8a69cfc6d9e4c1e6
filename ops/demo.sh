#!/usr/bin/env bash
# The first command to run: installs what is missing, builds release, makes a small synthetic
# archive and annotates it on this machine with `posecoord run` (random demo weights unless
# WEIGHTS is set). Everything goes under ./demo-out (or DEMO_OUT).
#
#   bash ops/demo.sh                     # 4 videos x 24 frames, 320x240
#   DEMO_VIDEOS=10 DEMO_FRAMES=30 bash ops/demo.sh
#   WEIGHTS=ftp_pose_s.safetensors bash ops/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
out="${DEMO_OUT:-$PWD/demo-out}"
videos="${DEMO_VIDEOS:-4}"
frames="${DEMO_FRAMES:-24}"

bash ops/install-deps.sh
echo "== building (release)"
swift build -c release --product posecoord
bin="$(swift build -c release --show-bin-path)/posecoord"

echo "== synthetic archive: $videos videos x $frames frames"
rm -rf "$out/archive" "$out/poses"
"$bin" synth --out "$out/archive" --videos "$videos" --frames "$frames" --seed 0

echo "== annotating with posecoord run"
weights=()
[ -n "${WEIGHTS:-}" ] && weights=(--weights "$WEIGHTS")
"$bin" run --archive "$out/archive" --out "$out/poses" "${weights[@]}"

echo
echo "Done."
echo "  videos + detections : $out/archive/*.mp4, *.dets.json, *.txt, *.json"
echo "  ground truth        : $out/archive/annotations/*.json (PoseTrack 2018)"
echo "  predicted poses     : $out/poses/*.json (PoseTrack 2018)"
echo "  job report          : $out/poses/_job.json"
