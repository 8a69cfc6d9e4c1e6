#!/usr/bin/env bash
# Every comparison of docs/BENCHMARKS.md "Evaluation", in one run: hand-made cases, synthetic
# pairs, `posecoord synth` ground truth with noisy predictions, a tie study, the tracking metrics
# (--track) on hand-made cases and on predictions that keep or lose their track ids, and (unless
# --no-run) `posecoord run` on the demo archive (trained demo weights) and on a small synthetic
# archive (random demo weights: a few minutes).
#
# usage: ops/eval/compare_all.sh POSEVAL_CHECKOUT PYTHON [WORK_DIR] [--no-run]
#   PYTHON: an interpreter with poseval's dependencies (docs/EVAL.md); WORK_DIR default /tmp/posecluster-eval
set -euo pipefail
cd "$(dirname "$0")/../.."
poseval=${1:?usage: compare_all.sh POSEVAL_CHECKOUT PYTHON [WORK_DIR] [--no-run]}
python=${2:?usage: compare_all.sh POSEVAL_CHECKOUT PYTHON [WORK_DIR] [--no-run]}
work=${3:-/tmp/posecluster-eval}
run_archive=1
[[ "${4:-}" == "--no-run" || "${3:-}" == "--no-run" ]] && run_archive=0
[[ "$work" == "--no-run" ]] && work=/tmp/posecluster-eval

swift build -c release --product posecoord >/dev/null
posecoord=.build/release/posecoord
compare() { python3 ops/eval/compare_with_poseval.py --poseval "$poseval" --python "$python" --posecoord "$posecoord" "$@"; }
status=0
rm -rf "$work" && mkdir -p "$work"
uptime

echo "== hand-made cases"
python3 ops/eval/make_cases.py "$work/cases" >/dev/null
compare --cases "$work/cases" || status=1

echo "== make_synthetic, 20 videos x 100 frames, seeds 1-5"
for seed in 1 2 3 4 5; do
    python3 ops/eval/make_synthetic.py "$work/syn$seed" --videos 20 --frames 100 --seed $seed >/dev/null
    compare --gt "$work/syn$seed/gt" --pred "$work/syn$seed/pred" || status=1
done

echo "== posecoord synth ground truth (12 videos x 100 frames) + noisy_predictions"
$posecoord synth --out "$work/arch" --videos 12 --frames 100 --seed 5 >/dev/null
python3 ops/eval/noisy_predictions.py "$work/arch/annotations" "$work/archnoisy" --seed 2 >/dev/null
compare --gt "$work/arch/annotations" --pred "$work/archnoisy" || status=1

echo "== make_synthetic, 100 videos x 150 frames, seed 11 (speed)"
python3 ops/eval/make_synthetic.py "$work/big" --videos 100 --frames 150 --seed 11 >/dev/null
compare --gt "$work/big/gt" --pred "$work/big/pred" || status=1

echo "== tied scores (rounded to 2 and 3 decimals): poseval as is, then with --stable"
for decimals in 2 3; do
    python3 ops/eval/make_synthetic.py "$work/tie$decimals" --videos 20 --frames 100 --seed 7 --score-decimals $decimals >/dev/null
    compare --gt "$work/tie$decimals/gt" --pred "$work/tie$decimals/pred" | head -1 || true
    compare --gt "$work/tie$decimals/gt" --pred "$work/tie$decimals/pred" --stable || status=1
done

echo "== tracking (--track): hand-made cases, make_synthetic with and without kept track ids, noisy posecoord synth"
compare --cases "$work/cases" --track || status=1
for seed in 1 2 3; do
    python3 ops/eval/make_synthetic.py "$work/track$seed" --videos 20 --frames 100 --seed $seed --keep-tracks >/dev/null
    compare --gt "$work/track$seed/gt" --pred "$work/track$seed/pred" --track || status=1
done
compare --gt "$work/syn1/gt" --pred "$work/syn1/pred" --track || status=1
python3 ops/eval/noisy_predictions.py "$work/arch/annotations" "$work/archtracks" --seed 2 --keep-tracks >/dev/null
compare --gt "$work/arch/annotations" --pred "$work/archtracks" --track || status=1

if (( run_archive )); then
    echo "== posecoord run on the demo archive (ops/demo.sh's: 4 videos x 24 frames, seed 0, trained demo weights), mAP and tracking"
    $posecoord synth --out "$work/demoarch" --videos 4 --frames 24 --seed 0 >/dev/null
    $posecoord run --archive "$work/demoarch" --out "$work/demoout" --weights configs/models/demo-synth.safetensors >/dev/null 2>&1
    compare --gt "$work/demoarch/annotations" --pred "$work/demoout" --track --stable || status=1
    echo "== posecoord run (random demo weights) on posecoord synth, 6 videos x 60 frames"
    $posecoord synth --out "$work/runarch" --videos 6 --frames 60 --seed 9 >/dev/null
    $posecoord run --archive "$work/runarch" --out "$work/runout" >/dev/null 2>&1
    compare --gt "$work/runarch/annotations" --pred "$work/runout" | head -1 || true
    compare --gt "$work/runarch/annotations" --pred "$work/runout" --stable || status=1
fi
uptime
exit $status
