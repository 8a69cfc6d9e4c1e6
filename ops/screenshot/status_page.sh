#!/usr/bin/env bash
# Takes a screenshot of the coordinator's status page mid-job with headless Chromium (Debian's
# `chromium`) and writes docs/images/status-page.png. The job: a small synthetic archive with one
# corrupted video (so a failed video shows, highlighted, first), no --weights (so the random
# weights warning shows) and one slow null-model worker (so the job is half done).
#   bash ops/screenshot/status_page.sh [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/../.."
out_png=${1:-docs/images/status-page.png}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then echo "status_page.sh: SKIPPED: no chromium (apt-get install chromium)"; exit 0; fi
bin=.build/release
[ -x "$bin/posecoord" ] || swift build -c release
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$bin/posecoord" synth --out "$work/archive" --videos 8 --frames 24 --size 160x120 --quiet
first=$(ls "$work/archive"/*.mp4 | head -1)
head -c 2000 /dev/urandom > "$first"                       # a corrupt video: fails as a whole
listen=$(port); http=$(port)
"$bin/posecoord" serve --archive "$work/archive" --out "$work/out" --listen "127.0.0.1:$listen" \
    --http "127.0.0.1:$http" --unit-size 2 --quiet > "$work/serve.log" 2>&1 &
pids+=($!)
"$bin/poseworker" join "127.0.0.1:$listen" --name node-a --threads 1 --null-model --service-ms 150 \
    --cache "$work/cache" --quiet > "$work/worker.log" 2>&1 &
pids+=($!)
# Wait until about a third of the windows are done.
for _ in $(seq 1 300); do
    fraction=$(curl -fsS "http://127.0.0.1:$http/status" 2>/dev/null | python3 -c '
import json, sys
job = json.load(sys.stdin)["job"]
print(job["windowsDone"] / max(1, job["windows"]))' 2>/dev/null || echo 0)
    python3 -c "import sys; sys.exit(0 if $fraction >= 0.33 else 1)" && break
    sleep 0.2
done
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,900 \
    --screenshot="$work/page.png" "http://127.0.0.1:$http/" > "$work/chromium.log" 2>&1
mkdir -p "$(dirname "$out_png")"
cp "$work/page.png" "$out_png"
echo "status_page.sh: wrote $out_png ($(stat -c %s "$out_png") bytes)"
