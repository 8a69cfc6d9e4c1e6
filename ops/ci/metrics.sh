#!/usr/bin/env bash
# CI step: a coordinator's /metrics, scraped mid-life, passes `promtool check metrics` (Debian's
# `prometheus` package); skipped visibly without promtool. Also the status page and /status answer.
#   BIN=.build/release bash ops/ci/metrics.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${BIN:-.build/release}
if ! command -v promtool > /dev/null; then
    echo "metrics.sh: SKIPPED: no promtool (apt-get install prometheus)"; exit 0
fi
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
"$bin/posecoord" synth --out "$work/archive" --videos 2 --frames 10 --size 96x64 --quiet > /dev/null
listen=$(port); http=$(port)
"$bin/posecoord" serve --archive "$work/archive" --out "$work/out" --listen "127.0.0.1:$listen" \
    --http "127.0.0.1:$http" --watch --quiet > "$work/serve.log" 2>&1 &
pids+=($!)
"$bin/poseworker" join "127.0.0.1:$listen" --name ci-worker --threads 1 --null-model --cache "$work/cache" --quiet &
pids+=($!)
for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$http/status" 2>/dev/null | python3 -c '
import json, sys
job = json.load(sys.stdin)["job"]
sys.exit(0 if job["videosDone"] == job["videos"] > 0 else 1)' 2>/dev/null && break
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$http/metrics" > "$work/metrics.txt"
promtool check metrics < "$work/metrics.txt"
grep -q '^posecluster_worker_units_done_total{worker="ci-worker"} [1-9]' "$work/metrics.txt"
grep -q '^posecluster_unit_latency_seconds_count [1-9]' "$work/metrics.txt"
curl -fsS "http://127.0.0.1:$http/" | grep -q "Random weights"
echo "metrics.sh: promtool check metrics: clean ($(grep -vc '^#' "$work/metrics.txt") samples)"
