"""The Swift side of training: validation mAP through `posecoord run` + `posecoord eval` on the
exported weights (what is measured is what ships), and engine inference for parity checks."""

import json
import os
import shutil
import subprocess
import tempfile


def find_binary(name, explicit=None):
    """`explicit`, else $POSECLUSTER_BIN/name, else .build/release/name of the repository, else PATH."""
    if explicit:
        return explicit
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    candidates = [os.path.join(root, ".build", "release", name)]
    if os.environ.get("POSECLUSTER_BIN"):
        candidates.insert(0, os.path.join(os.environ["POSECLUSTER_BIN"], name))
    for cand in candidates:
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return shutil.which(name)


def evaluate(weights, archive, posecoord, gt=None, detections=None, threads=2, keep=None):
    """Runs the archive through the engine with `weights` and scores it. Returns the parsed
    `posecoord eval --json` document (`total` is the PoseTrack mAP)."""
    out = keep or tempfile.mkdtemp(prefix="ftp-train-eval-")
    try:
        poses = os.path.join(out, "poses")
        if os.path.exists(poses):
            shutil.rmtree(poses)
        cmd = [posecoord, "run", "--archive", archive, "--out", poses, "--weights", weights, "--threads", str(threads)]
        if detections:
            cmd += ["--detections", detections]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode not in (0, 1) or not os.path.isdir(poses):
            raise RuntimeError(f"posecoord run failed ({run.returncode}): {run.stderr[-2000:]}")
        report = os.path.join(out, "eval.json")
        ev = subprocess.run([posecoord, "eval", "--gt", gt or os.path.join(archive, "annotations"), "--pred", poses,
                             "--json", report], capture_output=True, text=True)
        if ev.returncode != 0:
            raise RuntimeError(f"posecoord eval failed ({ev.returncode}): {ev.stderr[-2000:]}")
        return json.load(open(report))
    finally:
        if keep is None:
            shutil.rmtree(out, ignore_errors=True)


def infer(weights, inputs, poseworker, output, prune=None):
    """`poseworker infer` on a safetensors of `frames`; returns the output path."""
    cmd = [poseworker, "infer", "--weights", weights, "--input", inputs, "--output", output]
    if prune:
        cmd += ["--prune", prune]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"poseworker infer failed ({run.returncode}): {run.stderr[-2000:]}")
    return output
