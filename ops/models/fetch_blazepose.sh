#!/usr/bin/env bash
# Makes configs/models/blazepose-full.safetensors (or $1): fetches MediaPipe 0.10.21's wheel from
# PyPI (not installed: it pulls in jax and a pinned numpy), checks its SHA-256, takes the one
# BlazePose-Full landmark model out of it, checks that too, and converts it
# (ops/models/blazepose_convert.py). Apache-2.0; the weights are never committed.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-configs/models/blazepose-full.safetensors}"
wheel_name="mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
wheel_sha256="05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3"
member="mediapipe/modules/pose_landmark/pose_landmark_full.tflite"
model_sha256="e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"
cache="${POSECLUSTER_CACHE:-$HOME/.cache/posecluster}"
mkdir -p "$cache"

if [ -s "$out" ]; then echo "$out exists"; exit 0; fi
if [ ! -f "$cache/$wheel_name" ]; then
    python3 -m pip download --quiet --no-deps mediapipe==0.10.21 --python-version 3.11 \
        --platform manylinux_2_28_x86_64 --only-binary=:all: -d "$cache"
fi
echo "$wheel_sha256  $cache/$wheel_name" | sha256sum --check --quiet \
    || { echo "fetch_blazepose: $wheel_name does not have the expected SHA-256" >&2; exit 1; }
python3 - "$cache/$wheel_name" "$member" "$cache/pose_landmark_full.tflite" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], "wb") as f:
    f.write(z.read(sys.argv[2]))
PY
echo "$model_sha256  $cache/pose_landmark_full.tflite" | sha256sum --check --quiet \
    || { echo "fetch_blazepose: $member does not have the expected SHA-256" >&2; exit 1; }
python3 -c "import tflite" 2>/dev/null || python3 -m pip install --quiet tflite
mkdir -p "$(dirname "$out")"
python3 ops/models/blazepose_convert.py "$cache/pose_landmark_full.tflite" "$out"
