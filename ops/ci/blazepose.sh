#!/usr/bin/env bash
# CI step: makes configs/models/blazepose-full.safetensors (ops/models/fetch_blazepose.sh: the
# MediaPipe wheel from PyPI, hashes checked, converted) so the BlazePose exactness test and the
# real-footage steps run; skips visibly where python3 or PyPI is not available (those tests then
# skip with their own message). The tests compare with committed golden fixtures: no TFLite here.
set -uo pipefail
cd "$(dirname "$0")/../.."
echo "== BlazePose model (ops/ci/blazepose.sh)"
if [ -s configs/models/blazepose-full.safetensors ]; then echo "present: configs/models/blazepose-full.safetensors"; exit 0; fi
if ! command -v python3 >/dev/null || ! python3 -c "import numpy" 2>/dev/null; then
    echo "skipped: python3 with numpy is needed to convert the BlazePose model; its tests will skip"; exit 0
fi
if ! bash ops/models/fetch_blazepose.sh; then
    echo "skipped: could not fetch or convert the BlazePose model (PyPI unreachable?); its tests will skip"
fi
exit 0
