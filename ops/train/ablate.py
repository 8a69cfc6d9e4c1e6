"""The paper's ablations on our synthetic data (docs/TRAINING.md, "Ablations"): pruning ratios,
the high-resolution branch on/off, and HoT's token recovering attention instead of
scatter-restore. Every variant starts from the same weights (--init, e.g. demo-synth), is
fine-tuned the same number of steps on the same archive with the same seed, and is then measured
by the Swift engine: PoseTrack mAP (`posecoord run` + `posecoord eval` on a held-out archive) and
windows/s (`poseworker bench` on the variant's file, all variants in one sitting).

  python3 ops/train/ablate.py --train-archive /tmp/train --val-archive /tmp/demo \
      --init configs/models/demo-synth.safetensors --steps 100 --work /tmp/ablate

Prints a markdown table (also written to WORK/table.md) and WORK/results.json.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import engine  # noqa: E402

VARIANTS = [  # name, trainer flags
    ("prune 1,1 (unpruned)", ["--prune", "1,1"]),
    ("prune 2,2", ["--prune", "2,2"]),
    ("prune 4,4", ["--prune", "4,4"]),
    ("prune 6,6 (paper)", ["--prune", "6,6"]),
    ("prune 8,8", ["--prune", "8,8"]),
    ("no high-resolution branch", ["--prune", "6,6", "--no-hr-branch"]),
    ("token recovering attention (HoT)", ["--prune", "6,6", "--token-recovery", "attention"]),
]


def bench(poseworker, weights, batch, threads, iterations):
    out = subprocess.run([poseworker, "bench", "--model", weights, "--batch", str(batch), "--threads", str(threads),
                          "--iterations", str(iterations)], capture_output=True, text=True, check=True).stdout
    mean = float(re.search(r"([\d.]+) windows/s mean", out).group(1))
    cpu = float(re.search(r"([\d.]+) windows per CPU-second", out).group(1))
    return mean, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train-archive", required=True)
    ap.add_argument("--val-archive", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--config", default="demo")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--work", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bench-batch", type=int, default=4)
    ap.add_argument("--bench-iterations", type=int, default=5)
    ap.add_argument("--only", help="comma-separated variant indices")
    args = ap.parse_args()
    posecoord, poseworker = engine.find_binary("posecoord"), engine.find_binary("poseworker")
    if not (posecoord and poseworker):
        raise SystemExit("needs the release build (swift build -c release) or POSECLUSTER_BIN")
    os.makedirs(args.work, exist_ok=True)
    results_path = os.path.join(args.work, "results.json")
    results = json.load(open(results_path)) if os.path.exists(results_path) else {}
    chosen = [VARIANTS[int(i)] for i in args.only.split(",")] if args.only else VARIANTS
    for name, flags in chosen:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        out = os.path.join(args.work, slug + ".safetensors")
        if name not in results or "map" not in results[name]:
            t0 = time.time()
            cmd = [sys.executable, os.path.join(HERE, "train.py"), "--data", f"synth:{args.train_archive}", "--config", args.config,
                   "--init", args.init, "--out", out, "--batch", str(args.batch), "--max-steps", str(args.steps),
                   "--steps-per-epoch", str(args.steps), "--epochs", "1", "--lr", str(args.lr), "--warmup-steps", "10",
                   "--bf16", "--threads", str(args.threads), "--seed", str(args.seed), "--no-resume", "--log-every", "25", *flags]
            print(f"== {name}: {' '.join(cmd)}", flush=True)
            subprocess.run(cmd, check=True)
            minutes = (time.time() - t0) / 60
            ev = engine.evaluate(out, args.val_archive, posecoord, threads=args.threads)
            results[name] = {"map": ev["total"], "groups": ev["groups"], "train_minutes": minutes, "weights": out}
            json.dump(results, open(results_path, "w"), indent=1)
            print(f"   mAP {ev['total']:.1f} after {minutes:.1f} min", flush=True)
    for name, _ in chosen:  # windows/s of every variant in one sitting
        r = results[name]
        r["windows_per_s"], r["windows_per_cpu_s"] = bench(poseworker, r["weights"], args.bench_batch, args.threads, args.bench_iterations)
        json.dump(results, open(results_path, "w"), indent=1)
    lines = ["| variant | mAP | Head | Shoulder | Elbow | Wrist | Hip | Knee | Ankle | windows/s | windows per CPU-second |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, _ in VARIANTS:
        if name not in results or "windows_per_s" not in results[name]:
            continue
        r, g = results[name], results[name]["groups"]
        cells = " | ".join(f"{g[k]:.1f}" for k in ("head", "shoulder", "elbow", "wrist", "hip", "knee", "ankle"))
        lines.append(f"| {name} | {r['map']:.1f} | {cells} | {r['windows_per_s']:.1f} | {r['windows_per_cpu_s']:.1f} |")
    table = "\n".join(lines)
    open(os.path.join(args.work, "table.md"), "w").write(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
