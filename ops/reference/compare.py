"""Compare any FTP-Pose implementation with the reference on the same weights and input.

  # 1. (optional) make a weight file and an input for any preset, random weights:
  python3 ops/reference/compare.py make --model s --batch 2 --weights /tmp/s.safetensors --input /tmp/x.safetensors
  # 2. run the implementation under test (the engine's CLI):
  poseworker infer --weights /tmp/s.safetensors --input /tmp/x.safetensors --output /tmp/y.safetensors
  # 3. compare (runs the reference on X, compares with Y):
  python3 ops/reference/compare.py check --weights /tmp/s.safetensors --input /tmp/x.safetensors --output /tmp/y.safetensors
  # or let it run step 2 itself:
  python3 ops/reference/compare.py check --weights W --input X --engine .build/release/poseworker

X holds `frames` F32 [B, T, 3, H, W] (a fixture *.io.safetensors works as X); Y holds `heatmaps`,
`idx_hr`, `idx_lr`, `keypoints` (any missing one is skipped). The prune ratios come from --prune,
else Y's metadata "prune", else X's, else the config. Pass criteria (FTP-POSE.md section 9):
heatmaps within --rtol (default 1e-4) of the reference's largest |value|, indices equal exactly
except in DPC calls whose cutoff score gap is below 1e-4 (reported as ambiguous, not failures),
keypoints equal where the argmax is unambiguous. Exit status 0 on pass, 1 on mismatch.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import safetensors_io  # noqa: E402
from configs import PRESETS, config_json  # noqa: E402
from ftp_pose import FTPPose, decode, dpc_scores, load_model  # noqa: E402
from make_fixtures import DPC_GAP_MIN, PEAK_GAP_MIN, random_frames, random_weights  # noqa: E402


def parse_prune(text):
    hr, lr = (int(v) for v in text.split(","))
    if hr < 1 or lr < 1:
        raise argparse.ArgumentTypeError(f"prune ratios must be >= 1, got {text}")
    return hr, lr


def cutoff_gap(x, keep, cfg):
    if keep >= x.shape[0]:
        return float("inf")
    s = torch.sort(dpc_scores(x, cfg["knn_k"], cfg["dpc_tau"])[0], descending=True).values.double()
    return float((s[keep - 1] - s[keep]) / s[keep - 1].abs())


def cmd_make(args):
    cfg = dict(PRESETS[args.model])
    torch.manual_seed(args.seed)
    model = random_weights(FTPPose(cfg), args.seed, 0.3, 1.0)
    tensors = {k: v.numpy() for k, v in model.state_dict().items()}
    safetensors_io.save(args.weights, tensors, {"ftp_pose.config": config_json(cfg)})
    frames = random_frames(np.random.default_rng(10_000 + args.seed), args.batch, cfg)
    safetensors_io.save(args.input, {"frames": frames}, {"seed": str(args.seed)})
    print(f"wrote {args.weights} ({args.model}, seed {args.seed}) and {args.input} (frames {list(frames.shape)})")
    return 0


def cmd_check(args):
    torch.set_num_threads(args.threads)
    model = load_model(args.weights)
    cfg = model.cfg
    x, x_meta = safetensors_io.load(args.input)
    output = args.output
    if args.engine:
        output = output or os.path.join(tempfile.mkdtemp(), "y.safetensors")
        cmd = [args.engine, "infer", "--weights", args.weights, "--input", args.input, "--output", output]
        if args.prune:
            cmd += ["--prune", f"{args.prune[0]},{args.prune[1]}"]
        print("running:", " ".join(cmd))
        subprocess.run(cmd, check=True)
    if not output:
        raise SystemExit("check: give --output Y or --engine PATH")
    y, y_meta = safetensors_io.load(output)
    prune = args.prune
    for meta in (y_meta, x_meta):
        if prune is None and "prune" in meta:
            prune = parse_prune(meta["prune"])
    prune = prune or (cfg["prune_hr"], cfg["prune_lr"])
    frames = torch.from_numpy(x["frames"])
    trace = []
    with torch.no_grad():
        ref = model(frames, prune[0], prune[1], trace=trace)
    ok = True
    print(f"reference run: frames {list(frames.shape)}, prune {prune[0]},{prune[1]}")

    if "heatmaps" in y:
        want = ref["heatmaps"].numpy()
        got = y["heatmaps"]
        if got.shape != want.shape:
            print(f"heatmaps: shape {list(got.shape)} != reference {list(want.shape)}")
            return 1
        scale = float(np.abs(want).max())
        err = float(np.abs(got - want).max()) / scale
        passed = err <= args.rtol
        ok &= passed
        print(f"heatmaps: max |diff| / max |ref| = {err:.3e} (tolerance {args.rtol:g}) {'ok' if passed else 'FAIL'}")

    for key, branch in (("idx_hr", "hr"), ("idx_lr", "lr")):
        if key not in y:
            continue
        want = ref[key].numpy()
        got = y[key].astype(np.int64)
        if got.shape != want.shape:
            print(f"{key}: shape {list(got.shape)} != reference {list(want.shape)} FAIL")
            ok = False
            continue
        for b in range(want.shape[0]):
            call = next(c for c in trace if c["branch"] == branch and c["item"] == b)
            same = int(np.isin(got[b], want[b]).sum())
            gap = cutoff_gap(call["x"], call["keep"], cfg)
            if np.array_equal(got[b], want[b]):
                status = "ok"
            elif gap < DPC_GAP_MIN:
                status = f"ambiguous (cutoff gap {gap:.1e} < {DPC_GAP_MIN:g}: either choice is right)"
            else:
                status = "FAIL"
                ok = False
            print(f"{key}[{b}]: {same}/{want.shape[1]} indices agree, cutoff gap {gap:.2e}: {status}")

    if "keypoints" in y and "heatmaps" in y:
        want = decode(ref["heatmaps"].numpy())
        got = y["keypoints"]
        # Keypoints can differ legitimately where two heatmap values are within noise.
        heat = ref["heatmaps"].numpy()
        bad = 0
        for b in range(want.shape[0]):
            for j in range(want.shape[1]):
                if np.allclose(got[b, j, :2], want[b, j, :2]) and abs(got[b, j, 2] - want[b, j, 2]) <= args.rtol * max(1.0, abs(want[b, j, 2])):
                    continue
                flat = np.sort(heat[b, j].ravel())[::-1]
                margin = (flat[0] - flat[1]) / max(abs(flat[0]), 1e-30)
                tag = "ambiguous" if margin < PEAK_GAP_MIN else "FAIL"
                ok &= tag != "FAIL"
                bad += 1
                print(f"keypoints[{b},{j}]: got {got[b, j].tolist()} want {want[b, j].tolist()} ({tag}, peak margin {margin:.1e})")
        print(f"keypoints: {want.shape[0] * want.shape[1] - bad}/{want.shape[0] * want.shape[1]} equal")
    print("PASS" if ok else "MISMATCH")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("make", help="write random weights and an input for a preset")
    mk.add_argument("--model", choices=sorted(PRESETS), required=True)
    mk.add_argument("--batch", type=int, default=1)
    mk.add_argument("--seed", type=int, default=1)
    mk.add_argument("--weights", required=True)
    mk.add_argument("--input", required=True)
    ck = sub.add_parser("check", help="run the reference on X and compare with Y")
    ck.add_argument("--weights", required=True)
    ck.add_argument("--input", required=True)
    ck.add_argument("--output")
    ck.add_argument("--engine", help="path of poseworker: run `infer` first, writing --output (or a temp file)")
    ck.add_argument("--prune", type=parse_prune)
    ck.add_argument("--rtol", type=float, default=1e-4)
    ck.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    sys.exit(cmd_make(args) if args.cmd == "make" else cmd_check(args))


if __name__ == "__main__":
    main()
