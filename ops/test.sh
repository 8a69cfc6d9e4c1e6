#!/usr/bin/env bash
# The test command: installs what is missing, builds in release mode (the numeric and
# cluster tests run real models and processes), runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash ops/install-deps.sh
swift build -c release -Xswiftc -enable-testing --build-tests
swift test -c release -Xswiftc -enable-testing --skip-build --disable-swift-testing
