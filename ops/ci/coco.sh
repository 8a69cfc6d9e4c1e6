#!/usr/bin/env bash
# CI step: pycocotools loads `posecoord run`'s output and `posecoord synth`'s ground truth and
# COCOeval runs on them (ops/coco/check_coco.py). pycocotools comes from PyPI into a venv; where
# pip cannot get it, the step says so and is skipped.
# usage: ops/ci/coco.sh GT_DIR OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
gt=${1:?usage: coco.sh GT_DIR OUT_DIR}
out=${2:?usage: coco.sh GT_DIR OUT_DIR}
python=python3
if ! command -v python3 >/dev/null; then
  echo "skipped: the COCO check needs python3, not available here"
  exit 0
fi
if ! python3 -c "import pycocotools" 2>/dev/null; then
  venv="${TMPDIR:-/tmp}/posecluster-coco-venv"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import pycocotools" 2>/dev/null; then
    rm -rf "$venv"
    if ! { python3 -m venv "$venv" && timeout 120 "$venv/bin/pip" install --quiet --disable-pip-version-check pycocotools; } >/dev/null 2>&1; then
      echo "skipped: the COCO check needs pycocotools, and pip could not install it here"
      exit 0
    fi
  fi
  python="$venv/bin/python"
fi
"$python" ops/coco/check_coco.py "$gt" "$out"
