#!/usr/bin/env bash
# The test command: installs what is missing, builds in release mode (the numeric and cluster
# tests run real models and processes), runs every test, then runs the README's demo
# (ops/demo.sh) and the multi-host test (cluster/netns-test.sh, where network namespaces
# are available) on the same build, so neither can rot.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash ops/install-deps.sh
flags=(-Xswiftc -enable-testing)
swift build -c release "${flags[@]}" --build-tests
echo "== demo (ops/demo.sh)"
demo_out="$(mktemp -d "${TMPDIR:-/tmp}/posecluster-demo.XXXXXX")"
SWIFT_BUILD_FLAGS="${flags[*]}" DEMO_OUT="$demo_out" bash ops/demo.sh
echo "== COCO tools load the demo's output (ops/ci/coco.sh)"
bash ops/ci/coco.sh "$demo_out/archive/annotations" "$demo_out/poses"
rm -rf "$demo_out"
echo "== multi-host test (cluster/netns-test.sh)"
bin="$(swift build -c release "${flags[@]}" --show-bin-path)"
if [ "$(id -u)" = 0 ] && ip netns add "posecluster-probe-$$" 2>/dev/null; then
  ip netns del "posecluster-probe-$$"
  BIN="$bin" bash cluster/netns-test.sh
else
  echo "skipped: the multi-host test needs root and network namespaces (ip netns), not available here"
fi
echo "== training smoke test (ops/ci/train.sh)"
BIN="$bin" bash ops/ci/train.sh
bash ops/ci/blazepose.sh
echo "== real footage: vtest.avi clip through posecoord run --detector hog (ops/ci/real-clip.sh)"
BIN="$bin" bash ops/ci/real-clip.sh
echo "== /metrics passes promtool (ops/ci/metrics.sh)"
BIN="$bin" bash ops/ci/metrics.sh
echo "== deploy files pass systemd-analyze, kubernetes-validate, hadolint; sbatch under Slurm (ops/ci/deploy.sh, ops/ci/slurm.sh)"
BIN="$bin" bash ops/ci/deploy.sh && BIN="$bin" bash ops/ci/slurm.sh
echo "== portability: the demo under qemu -cpu Haswell, byte-identical (ops/ci/isa-qemu.sh)"
BIN="$bin" bash ops/ci/isa-qemu.sh
echo "== tests"
swift test -c release "${flags[@]}" --skip-build --disable-swift-testing
