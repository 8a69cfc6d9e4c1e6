#!/usr/bin/env bash
# Starts a coordinator and N workers on loopback for an archive, waits for the job, reports.
#
#   cluster/local.sh ARCHIVE_DIR OUT_DIR [WORKERS] [-- extra posecoord serve options]
#
# Environment: BIN (folder with posecoord/poseworker, default .build/release, built if missing),
# PORT (default: a free one), HTTP_PORT (default PORT+1), THREADS (per worker, default 1),
# WORKER_ARGS (extra poseworker join options, e.g. "--null-model --service-ms 20").
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -lt 2 ]]; then
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
archive=$1; out=$2; workers=${3:-2}
shift $(( $# >= 3 ? 3 : 2 ))
[[ "${1:-}" == "--" ]] && shift
BIN=${BIN:-.build/release}
if [[ ! -x "$BIN/posecoord" || ! -x "$BIN/poseworker" ]]; then
    swift build -c release >&2
fi
# A port nobody listens on (no connection accepted), from 20000-59999, tried up to 50 times.
free_port() {
    local port
    for _ in $(seq 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    echo "local.sh: no free port found" >&2; return 1
}
PORT=${PORT:-$(free_port)}
HTTP_PORT=${HTTP_PORT:-$((PORT + 1))}
THREADS=${THREADS:-1}
logs=$(mktemp -d "${TMPDIR:-/tmp}/posecluster-local.XXXXXX")
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

start=$(date +%s.%N)
"$BIN/posecoord" serve --archive "$archive" --out "$out" --listen "127.0.0.1:$PORT" --http "127.0.0.1:$HTTP_PORT" "$@" \
    2> >(tee "$logs/coordinator.log" >&2) &
coordinator=$!
for ((i = 0; i < workers; i++)); do
    # shellcheck disable=SC2086
    "$BIN/poseworker" join "127.0.0.1:$PORT" --threads "$THREADS" --name "worker-$i" ${WORKER_ARGS:-} > "$logs/worker-$i.log" 2>&1 &
    pids+=($!)
done
echo "coordinator 127.0.0.1:$PORT, status http://127.0.0.1:$HTTP_PORT/, $workers workers, logs in $logs" >&2
status=0
wait "$coordinator" || status=$?
end=$(date +%s.%N)
for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
pids=()
echo "job finished with status $status in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s; report: $out/_posecluster/job.json" >&2
exit "$status"
