#!/usr/bin/env bash
# CI step: a 20-step training run (ops/train/train.py, demo config, CPU) writes weights that the
# Swift engine loads and runs on a synthetic archive. Skips with a message where torch is absent
# (CI does not need torch). BIN: folder of the release posecoord (default: swift's bin path).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! python3 -c "import torch" 2>/dev/null; then
  echo "skipped: the training smoke test needs PyTorch (pip install torch); ops/train is not exercised here"
  exit 0
fi
bin="${BIN:-$(swift build -c release --show-bin-path)}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/posecluster-train.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$bin/posecoord" synth --out "$tmp/archive" --videos 1 --frames 8 --seed 5 2>/dev/null
python3 ops/train/train.py --data "synth:$tmp/archive" --config demo --out "$tmp/w.safetensors" \
  --batch 2 --max-steps 20 --threads 1 --log-every 10
"$bin/posecoord" run --archive "$tmp/archive" --out "$tmp/poses" --weights "$tmp/w.safetensors" 2>&1 | tail -1
python3 - "$tmp/w.safetensors" "$tmp/poses/000001_mpii_test.json" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
meta = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])["__metadata__"]
assert meta["train.steps"] == "20", meta
poses = json.load(open(sys.argv[2]))
assert poses["annotations"] and all(len(a["keypoints"]) == 51 for a in poses["annotations"])
print(f"ok: 20-step weights ({meta['train.git_commit'][:12]}) ran in the engine: {len(poses['annotations'])} people annotated")
PY
