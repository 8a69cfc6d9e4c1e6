#!/usr/bin/env bash
# Fetches OpenCV's sample video vtest.avi (768x576, 10 fps, 795 frames of pedestrians; BSD
# sample data) from Debian's opencv-doc package and checks its SHA-256. Never committed.
#
#   bash ops/real/fetch_vtest.sh DIR        # -> DIR/vtest.avi (kept if already there and valid)
set -euo pipefail
dir="${1:?usage: fetch_vtest.sh DIR}"
sha=45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf
mkdir -p "$dir"
video="$dir/vtest.avi"
if [ -f "$video" ] && echo "$sha  $video" | sha256sum -c --quiet 2>/dev/null; then
  exit 0
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/vtest.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# apt-get download writes into the current folder; it needs the package lists.
if ! (cd "$work" && apt-get download opencv-doc >/dev/null 2>&1); then
  (apt-get update -qq >/dev/null 2>&1 || true)
  (cd "$work" && apt-get download opencv-doc >/dev/null 2>&1) || { echo "cannot download Debian's opencv-doc (apt-get download opencv-doc)" >&2; exit 1; }
fi
dpkg -x "$work"/opencv-doc_*.deb "$work/x"
found="$(find "$work/x" -name vtest.avi | head -1)"
[ -n "$found" ] || { echo "opencv-doc holds no vtest.avi" >&2; exit 1; }
echo "$sha  $found" | sha256sum -c --quiet || { echo "vtest.avi: unexpected SHA-256 (wanted $sha)" >&2; exit 1; }
cp "$found" "$video"
