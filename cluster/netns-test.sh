#!/usr/bin/env bash
# Multi-host test on one machine: the coordinator and two workers each in their own network
# namespace, joined by a bridge that lives in a fourth namespace (the host's network is not
# touched; nothing can leave the namespaces). Runs a small job across them with a token and
# checks the outputs are byte-identical to `posecoord run`. Needs root (ip netns); ops/test.sh runs it where it can.
#   cluster/netns-test.sh            (BIN defaults to .build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(cd "${BIN:-.build/release}" && pwd)
[[ $(id -u) == 0 ]] || { echo "netns-test: needs root (ip netns)" >&2; exit 2; }
[[ -x "$BIN/posecoord" && -x "$BIN/poseworker" ]] || { echo "netns-test: build first (swift build -c release)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/posecluster-netns.XXXXXX")
prefix=pc$$
namespaces=("$prefix-sw" "$prefix-c" "$prefix-w1" "$prefix-w2")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    [[ -n "${KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT

for ns in "${namespaces[@]}"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n "$prefix-sw" link add br0 type bridge
ip -n "$prefix-sw" link set br0 up
address=1
for ns in "$prefix-c" "$prefix-w1" "$prefix-w2"; do
    ip link add "v$address-$$" type veth peer name eth0 netns "$ns"
    ip link set "v$address-$$" netns "$prefix-sw"
    ip -n "$prefix-sw" link set "v$address-$$" master br0 up
    ip -n "$ns" addr add "10.77.0.$address/24" dev eth0
    ip -n "$ns" link set eth0 up
    address=$((address + 1))
done

"$BIN/posecoord" synth --out "$work/archive" --videos 2 --frames 12 --people 2 --size 160x120 > /dev/null 2>&1
"$BIN/posecoord" run --archive "$work/archive" --out "$work/expected" --threads 2 --unit-size 2 > /dev/null 2>&1
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/token"

ip netns exec "$prefix-c" "$BIN/posecoord" serve --archive "$work/archive" --out "$work/out" --unit-size 2 \
    --listen 10.77.0.1:7700 --http 10.77.0.1:7701 --token-file "$work/token" > "$work/coordinator.log" 2>&1 &
coordinator=$!
for ns in "$prefix-w1" "$prefix-w2"; do
    ip netns exec "$ns" "$BIN/poseworker" join 10.77.0.1:7700 --threads 1 --token-file "$work/token" \
        --cache "$work/cache-$ns" --name "$ns" > "$work/$ns.log" 2>&1 &
    pids+=($!)
done
status=0
# A worker namespace can see the coordinator's status page while the job runs (polled, bounded).
seen=0
for _ in $(seq 50); do
    if ip netns exec "$prefix-w1" "$BIN/posecoord" status 10.77.0.1:7701 --token-file "$work/token" > "$work/status.txt" 2>/dev/null; then seen=1; break; fi
    kill -0 "$coordinator" 2>/dev/null || break
    sleep 0.1
done
if [[ $seen == 1 ]]; then
    head -3 "$work/status.txt"
elif kill -0 "$coordinator" 2>/dev/null; then
    echo "netns-test: the coordinator's status page was not reachable from a worker namespace" >&2; status=1
fi
if ! timeout 300 tail --pid="$coordinator" -f /dev/null; then echo "netns-test: the job did not finish in 300 s" >&2; status=1; fi
wait "$coordinator" || status=$?
for f in "$work"/expected/*.json; do
    name=$(basename "$f")
    if ! cmp -s "$f" "$work/out/$name"; then echo "netns-test: $name differs from posecoord run" >&2; status=1; fi
done
grep -q "joined" "$work/coordinator.log" || status=1
if [[ $status == 0 ]]; then
    echo "netns-test: passed: coordinator and 2 workers in separate namespaces, outputs identical to posecoord run"
else
    echo "netns-test: FAILED; coordinator log:" >&2; cat "$work/coordinator.log" >&2
fi
exit "$status"
