#!/usr/bin/env bash
# Installs the Debian packages posecluster needs to build and run, if any is missing.
# Needs root (or sudo) only when something is missing.
set -euo pipefail
need=()
for pkg in ffmpeg libzstd-dev libturbojpeg0-dev pkg-config iproute2; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "note: add /opt/swift/usr/bin to PATH"
  else
    echo "error: no Swift toolchain found (Swift 6 from swift.org is needed)" >&2
    exit 1
  fi
fi
