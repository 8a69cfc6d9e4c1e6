#!/usr/bin/env bash
# Prints the path of the weights for real footage: BlazePose-Full,
# configs/models/blazepose-full.safetensors, made by ops/models/fetch_blazepose.sh (from
# MediaPipe's PyPI wheel) if missing; where it cannot be made, the synthetic demo model, with a
# line on stderr saying so. Used by ops/real/demo.sh and ops/ci/real-clip.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=configs/models/blazepose-full.safetensors
if [ -s "$target" ] || { bash ops/models/fetch_blazepose.sh >&2 && [ -s "$target" ]; }; then
  echo "$target"
  exit 0
fi
echo "BlazePose weights unavailable (ops/models/fetch_blazepose.sh failed): using the synthetic demo model; its keypoints are not real poses" >&2
echo "configs/models/demo-synth.safetensors"
