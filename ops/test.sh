#!/usr/bin/env bash
# The test command: installs what is missing, builds in release mode (the numeric and cluster
# tests run real models and processes), runs every test, then runs the README's demo
# (ops/demo.sh) on the same build so the first command cannot rot.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash ops/install-deps.sh
flags=(-Xswiftc -enable-testing)
swift build -c release "${flags[@]}" --build-tests
echo "== demo (ops/demo.sh)"
demo_out="$(mktemp -d "${TMPDIR:-/tmp}/posecluster-demo.XXXXXX")"
SWIFT_BUILD_FLAGS="${flags[*]}" DEMO_OUT="$demo_out" bash ops/demo.sh
rm -rf "$demo_out"
echo "== tests"
swift test -c release "${flags[@]}" --skip-build --disable-swift-testing
