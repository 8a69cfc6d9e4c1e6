#!/usr/bin/env bash
# HOG frames/s, Swift beside OpenCV, in one run (docs/BENCHMARKS.md, "Person detector"):
# makes a venv with opencv-python-headless 4.10.0.84 (once, under /tmp) and runs HOGBenchTests.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="/opt/swift/usr/bin:$PATH"
venv="${HOG_VENV:-/tmp/hog-venv}"
if ! "$venv/bin/python" -c "import cv2" 2>/dev/null; then
  python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install --quiet opencv-python-headless==4.10.0.84
fi
swift build -c release -Xswiftc -enable-testing --build-tests
lscpu | grep 'Model name' || true
POSE_HOG_BENCH=1 POSE_HOG_BENCH_PYTHON="$venv/bin/python" \
  swift test -c release -Xswiftc -enable-testing --skip-build --disable-swift-testing --filter HOGBenchTests 2>&1 | grep -E "HOG bench|swift  |opencv"
