#!/usr/bin/env bash
# Portability check (issue 10): the portable release build runs on an AVX2-only CPU and gives the
# same output bytes as on this machine. Runs the README demo's pipeline and model
# (configs/models/demo-synth.safetensors, `posecoord run`) on a small synthetic archive natively and
# under `qemu-x86_64 -cpu Haswell` (Debian qemu-user: AVX2 + FMA, no AVX-512), then compares the
# PoseTrack outputs byte for byte. Kept small (1 video, 3 frames, 1 person: 4 windows) because
# emulation is slow. Skips visibly where qemu-user cannot be installed.
#   BIN=.build/release bash ops/ci/isa-qemu.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${BIN:-.build/release}"
if [ "$(uname -m)" != x86_64 ]; then
  echo "skipped: the qemu Haswell check is for x86-64 builds (this is $(uname -m))"
  exit 0
fi
if ! command -v qemu-x86_64 >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq qemu-user >/dev/null) || true
  fi
fi
if ! command -v qemu-x86_64 >/dev/null; then
  echo "skipped: qemu-x86_64 (Debian package qemu-user) is not installed and cannot be installed here"
  exit 0
fi
start=$(date +%s)
work="$(mktemp -d "${TMPDIR:-/tmp}/posecluster-qemu.XXXXXX")"
trap 'rm -rf "$work"' EXIT
qemu=(qemu-x86_64 -cpu Haswell)
quiet() { grep -v "TCG doesn't support requested feature" || true; }

# 1. The emulated CPU gets the AVX2 kernels, chosen at run time.
kernels="$("${qemu[@]}" "$bin/poseworker" bench --model tiny --batch 1 --iterations 1 --warmup 0 --threads 1 2>&1 | quiet | grep '^kernels:' || true)"
echo "under qemu -cpu Haswell: $kernels"
case "$kernels" in
  "kernels: avx2 "*) ;;
  *) echo "FAIL: expected the avx2 kernels under -cpu Haswell"; exit 1 ;;
esac

# 2. The demo's pipeline and model, natively (this CPU's best kernels) and emulated.
"$bin/posecoord" synth --out "$work/archive" --videos 1 --frames 3 --people 1 --seed 0 >/dev/null
weights=configs/models/demo-synth.safetensors
"$bin/posecoord" run --archive "$work/archive" --out "$work/native" --weights "$weights" --threads 2 2>&1 | tail -1
"${qemu[@]}" "$bin/posecoord" run --archive "$work/archive" --out "$work/qemu" --weights "$weights" --threads 2 2>&1 | quiet | tail -1
compared=0
for file in "$work/native"/*.json; do
  name="$(basename "$file")"
  cmp "$file" "$work/qemu/$name" || { echo "FAIL: $name differs between native and qemu -cpu Haswell"; exit 1; }
  compared=$((compared + 1))
done
[ "$compared" -gt 0 ] || { echo "FAIL: no output to compare"; exit 1; }
native="$("$bin/poseworker" bench --model tiny --batch 1 --iterations 1 --warmup 0 --threads 1 2>&1 | sed -n 's/^kernels: \([a-z0-9]*\).*/\1/p')"
echo "ok: $compared output file(s) byte-identical natively ($native kernels) and under qemu -cpu Haswell (avx2), $(( $(date +%s) - start )) s"
