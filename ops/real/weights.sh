#!/usr/bin/env bash
# Prints the path of the weights for real footage: BlazePose-Full made by
# ops/models/fetch_blazepose.sh (from MediaPipe's PyPI wheel) when it can be made, otherwise the
# synthetic demo model, with a line on stderr saying so. Used by ops/real/demo.sh and CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
cache="${POSECLUSTER_CACHE:-$HOME/.cache/posecluster}"
target="$cache/blazepose-full.safetensors"
if [ -s "$target" ]; then echo "$target"; exit 0; fi
if [ -f ops/models/fetch_blazepose.sh ] && bash ops/models/fetch_blazepose.sh "$target" >&2 && [ -s "$target" ]; then
  echo "$target"
  exit 0
fi
echo "BlazePose weights unavailable (ops/models/fetch_blazepose.sh missing or failed): using the synthetic demo model; its keypoints are not real poses" >&2
echo "configs/models/demo-synth.safetensors"
