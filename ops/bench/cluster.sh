#!/usr/bin/env bash
# Cluster benchmarks (docs/BENCHMARKS.md, "Cluster"), on loopback, release build:
#   1. overhead: `poseworker bench`, `posecoord run --threads 1` and one cluster worker with --threads 1, same
#      model (demo) and batch (4), same archive: windows/s side by side;
#   2. capacity: null workers (--null-model --service-ms 0): units/s accepted and windows/s
#      fed (decode + crop + compress + send) by the coordinator;
#   3. scaling: 1, 2, 4, ... WORKERS_MAX null workers with --service-ms SERVICE_MS against
#      the ideal N x units/s of one worker.
#   ops/bench/cluster.sh [overhead|capacity|scaling|all]
# Environment: BIN (default .build/release), WORKERS_MAX (64), SERVICE_MS (200), KEEP=1 keeps files.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-.build/release}
what=${1:-all}
WORKERS_MAX=${WORKERS_MAX:-64}
SERVICE_MS=${SERVICE_MS:-200}
[[ -x "$BIN/posecoord" && -x "$BIN/poseworker" ]] || swift build -c release >&2
work=$(mktemp -d "${TMPDIR:-/tmp}/posecluster-bench.XXXXXX")
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; [[ -n "${KEEP:-}" ]] || rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# cluster ARCHIVE OUT WORKERS [worker options...]: prints the coordinator's throughput line.
cluster() {
    local archive=$1 out=$2 workers=$3; shift 3
    local port; port=$(free_port)
    rm -rf "$out"
    "$BIN/posecoord" serve --archive "$archive" --out "$out" --listen "127.0.0.1:$port" --units-ahead 256 \
        > "$out.log" 2>&1 &
    local coordinator=$!
    sleep 0.5
    pids=()
    for ((i = 0; i < workers; i++)); do
        "$BIN/poseworker" join "127.0.0.1:$port" --cache "$work/cache" "$@" > /dev/null 2>&1 &
        pids+=($!)
    done
    wait "$coordinator" || true
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
    grep "throughput:" "$out.log" | sed 's/^posecoord: //'
}

if [[ $what == overhead || $what == all ]]; then
    "$BIN/posecoord" synth --out "$work/small" --videos 4 --frames 60 --people 3 --size 320x240 > /dev/null 2>&1
    echo "== overhead: the engine alone, one process, one cluster worker (demo model, batch 4, 1 thread)"
    "$BIN/poseworker" bench --model demo --batch 4 --threads 1 2>&1 | grep "windows/s" | sed 's/^/bench:   /' || true
    start=$(date +%s.%N)
    "$BIN/posecoord" run --archive "$work/small" --out "$work/run" --threads 1 > /dev/null 2>&1
    end=$(date +%s.%N)
    windows=$(python3 -c "import json; print(sum(v['counts']['windows'] for v in json.load(open('$work/run/_posecluster/job.json'))['videos']))")
    python3 -c "print(f'run:     {$windows} windows in {$end-$start:.2f} s: {$windows/($end-$start):.2f} windows/s (whole command)')"
    start=$(date +%s.%N)
    line=$(cluster "$work/small" "$work/cluster" 1 --threads 1 --batch 4)
    end=$(date +%s.%N)
    python3 -c "print(f'cluster: {$windows} windows in {$end-$start:.2f} s: {$windows/($end-$start):.2f} windows/s (whole job, coordinator + worker start included)')"
    echo "cluster: $line"
    for f in "$work"/run/*.json; do cmp -s "$f" "$work/cluster/$(basename "$f")" || echo "DIFFERENT: $f"; done
fi

if [[ $what == capacity || $what == scaling || $what == all ]]; then
    "$BIN/posecoord" synth --out "$work/big" --videos 8 --frames 60 --people 3 --size 320x240 > /dev/null 2>&1
fi
if [[ $what == capacity || $what == all ]]; then
    # A longer job for capacity, so the first second's ramp-up weighs little.
    "$BIN/posecoord" synth --out "$work/long" --videos 12 --frames 120 --people 3 --size 320x240 > /dev/null 2>&1
fi

if [[ $what == capacity || $what == all ]]; then
    echo "== capacity: null workers that answer at once (--service-ms 0)"
    for n in 1 4; do
        echo "$n null workers: $(cluster "$work/long" "$work/cap$n" "$n" --null-model --service-ms 0 --credits 8)"
    done
fi

if [[ $what == scaling || $what == all ]]; then
    echo "== scaling: null workers with --service-ms $SERVICE_MS (ideal: N x 1000/$SERVICE_MS units/s)"
    n=1
    while (( n <= WORKERS_MAX )); do
        line=$(cluster "$work/big" "$work/scale$n" "$n" --null-model --service-ms "$SERVICE_MS" --credits 2)
        units=$(sed -E 's/.* ([0-9.]+) units\/s.*/\1/' <<< "$line")
        python3 -c "ideal = $n * 1000 / $SERVICE_MS; print(f'{$n:3d} workers: {$units:8.1f} units/s, ideal {ideal:8.1f}, {100 * $units / ideal:5.1f}% -- $line')"
        n=$((n * 2))
    done
fi
