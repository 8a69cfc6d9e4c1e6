#!/usr/bin/env python3
"""Runs `posecoord eval` and the official PoseTrack kit (poseval) on the same folders and
checks that every number agrees to 0.01: the 15 joint APs, the 7 group means, the total,
and the final precision and recall per joint. With --track also the tracking metrics
(--evalPoseTracking): MOTA, MOTP, precision and recall of every joint and their totals.

usage:
  python3 ops/eval/compare_with_poseval.py --poseval /tmp/poseval --gt GT --pred PRED \
      [--posecoord .build/release/posecoord] [--python PY] [--stable] [--cases DIR] [--track]

--poseval  a checkout of github.com/leonid-pishchulin/poseval (its Python needs click,
           motmetrics, shapely, tqdm, pandas, numpy, scipy; give that interpreter with --python)
--stable   run the kit through poseval_stable.py (sorted file order, stable argsort), which
           pins its tie order to posecoord's; without it the kit runs untouched
--cases    instead of --gt/--pred: every OUT/<case>/{gt,pred} from make_cases.py, also
           checked against the hand-computed OUT/<case>/expected.json (and its "tracking"
           entry, if any, with --track)
--track    also compare the tracking metrics (posecoord eval --track, poseval --evalPoseTracking)
Exit status 0 when everything agrees. Python is only needed here, never by posecluster.
"""
import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time

NAMES = ["right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "right_wrist",
         "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist", "head_bottom", "nose", "head_top"]
GROUPS = [("head", [14, 12, 13]), ("shoulder", [8, 9]), ("elbow", [7, 10]), ("wrist", [6, 11]),
          ("hip", [2, 3]), ("knee", [1, 4]), ("ankle", [0, 5])]
TOLERANCE = 0.01
HERE = os.path.dirname(os.path.abspath(__file__))


def nan(x):
    return float("nan") if x is None else float(x)


def same(a, b):
    a, b = nan(a), nan(b)
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= TOLERANCE


def run_poseval(args, gt, pred, out):
    command = [args.python, os.path.join(HERE, "poseval_stable.py")] if args.stable else [args.python, "-m", "poseval.evaluate"]
    command += ["--groundTruth", gt.rstrip("/") + "/", "--predictions", pred.rstrip("/") + "/",
                "--evalPoseEstimation", "--outputDir", out] + (["--evalPoseTracking"] if args.track else [])
    env = dict(os.environ, PYTHONPATH=os.path.abspath(args.poseval))
    start = time.monotonic()
    result = subprocess.run(command, cwd=out, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if result.returncode != 0:
        sys.exit("poseval failed:\n" + result.stdout[-3000:] + result.stderr[-3000:])
    with open(os.path.join(out, "total_AP_metrics.json")) as f:
        metrics = json.load(f)
    table = [line for line in result.stdout.splitlines() if line.startswith("&")]
    frames = [int(line.split(":")[1]) for line in result.stdout.splitlines() if line.startswith("# gt frames")]
    metrics["evaluated_frames"] = frames[0] if frames else None
    if args.track:
        with open(os.path.join(out, "total_MOT_metrics.json")) as f:
            metrics["mot"] = json.load(f)
    return metrics, seconds, table


def run_posecoord(args, gt, pred, out):
    path = os.path.join(out, "posecoord.json")
    start = time.monotonic()
    result = subprocess.run([args.posecoord, "eval", "--gt", gt, "--pred", pred, "--json", path] + (["--track"] if args.track else []),
                            capture_output=True, text=True)
    seconds = time.monotonic() - start
    if result.returncode != 0:
        sys.exit("posecoord eval failed:\n" + result.stdout + result.stderr)
    with open(path) as f:
        return json.load(f), seconds, result.stdout


def compare(args, gt, pred, label, expected=None):
    with tempfile.TemporaryDirectory() as out:
        kit, kit_seconds, kit_table = run_poseval(args, gt, pred, out)
        ours, our_seconds, our_table = run_posecoord(args, gt, pred, out)
    problems = []
    rows = []
    if kit["evaluated_frames"] != ours["counts"]["evaluated_frames"]:
        problems.append("evaluated frames: posecoord %s, poseval %s" % (ours["counts"]["evaluated_frames"], kit["evaluated_frames"]))
    for j, name in enumerate(NAMES):
        mine = ours["joints"][j]
        assert mine["name"] == name
        for key, theirs in (("ap", kit["ap"][j]), ("precision", kit["pre"][j]), ("recall", kit["rec"][j])):
            if not same(mine[key], theirs):
                problems.append("%s %s: posecoord %s, poseval %s" % (name, key, mine[key], theirs))
        if expected is not None and not same(mine["ap"], expected["ap"][j]):
            problems.append("%s ap: posecoord %s, hand-computed %s" % (name, mine["ap"], expected["ap"][j]))
        rows.append((name, mine["ap"], kit["ap"][j]))
    kit_ap = [nan(x) for x in kit["ap"]]
    for name, joints in GROUPS:
        theirs = sum(kit_ap[j] for j in joints) / len(joints)
        if not same(ours["groups"][name], theirs):
            problems.append("group %s: posecoord %s, poseval %s" % (name, ours["groups"][name], theirs))
        rows.append((name, ours["groups"][name], theirs))
    if not same(ours["total"], kit["ap"][15]):
        problems.append("total: posecoord %s, poseval %s" % (ours["total"], kit["ap"][15]))
    if expected is not None and not same(ours["total"], expected["total"]):
        problems.append("total: posecoord %s, hand-computed %s" % (ours["total"], expected["total"]))
    rows.append(("total", ours["total"], kit["ap"][15]))
    if args.track:
        tracking = ours["tracking"]
        mot = kit["mot"]
        for key, theirs_key in (("mota", "mota"), ("motp", "motp"), ("precision", "pre"), ("recall", "rec")):
            for j, name in enumerate(NAMES):
                mine = tracking["joints"][j]["metrics"][key]
                if not same(mine, mot[theirs_key][j]):
                    problems.append("%s %s: posecoord %s, poseval %s" % (name, key, mine, mot[theirs_key][j]))
            if not same(tracking["total"][key], mot[theirs_key][15]):
                problems.append("total %s: posecoord %s, poseval %s" % (key, tracking["total"][key], mot[theirs_key][15]))
            rows.append(("total " + key, tracking["total"][key], mot[theirs_key][15]))
            if expected is not None and "tracking" in expected and not same(tracking["total"][key], expected["tracking"][key]):
                problems.append("total %s: posecoord %s, hand-computed %s" % (key, tracking["total"][key], expected["tracking"][key]))
    worst = max((abs(nan(a) - nan(b)) for _, a, b in rows if not (math.isnan(nan(a)) or math.isnan(nan(b)))), default=0)
    status = "AGREE" if not problems else "DIFFER"
    mota = ""
    if args.track:
        mota = "  MOTA posecoord %s poseval %s" % (fmt(ours["tracking"]["total"]["mota"]), fmt(kit["mot"]["mota"][15]))
    print("%-24s %s  total posecoord %s poseval %s%s  max |diff| %.2g  (%d evaluated frames; posecoord %.2f s, poseval %.2f s)"
          % (label, status, fmt(ours["total"]), fmt(kit["ap"][15]), mota, worst, ours["counts"]["evaluated_frames"],
             our_seconds, kit_seconds))
    if args.verbose or problems:
        for name, a, b in rows:
            print("    %-16s posecoord %8s  poseval %8s" % (name, fmt(a), fmt(b)))
        for line in kit_table:
            print("    poseval table: " + line)
        for problem in problems:
            print("    " + problem)
    return not problems


def fmt(x):
    x = nan(x)
    return "nan" if math.isnan(x) else "%.4f" % x


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # `| head` ends quietly
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--poseval", required=True)
    parser.add_argument("--gt")
    parser.add_argument("--pred")
    parser.add_argument("--cases")
    parser.add_argument("--posecoord", default=".build/release/posecoord")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--stable", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--track", action="store_true")
    args = parser.parse_args()
    args.posecoord = os.path.abspath(args.posecoord)
    ok = True
    if args.cases:
        for case in sorted(os.listdir(args.cases)):
            root = os.path.join(args.cases, case)
            with open(os.path.join(root, "expected.json")) as f:
                expected = json.load(f)
            if args.track and "tracking" not in expected:
                continue   # single-frame cases: poseval's tracking evaluation crashes on them
            ok &= compare(args, os.path.join(root, "gt"), os.path.join(root, "pred"), case, expected)
    else:
        if not (args.gt and args.pred):
            parser.error("give --gt and --pred, or --cases")
        ok = compare(args, args.gt, args.pred, os.path.basename(os.path.normpath(args.pred)))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
