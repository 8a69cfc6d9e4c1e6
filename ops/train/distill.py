"""Distillation from a real teacher (docs/TRAINING.md, "Distillation"): pseudo-label a real video
with the teacher through the engine, train FTP-Pose on the labels of its first 80% of frames
(starting from a synthetic model), and compare students with the teacher on the held-out last 20%.

  python3 ops/train/distill.py --video /usr/share/doc/opencv-doc/examples/data/vtest.avi \
      --teacher blazepose-full.safetensors --teacher-args "--detector hog" \
      --init configs/models/demo-synth.safetensors --work /tmp/distill --steps 600 \
      --out /tmp/demo-real.safetensors

Steps (each skipped when its output exists in --work):
1. `posecoord run --weights TEACHER` on the video (boxes from --teacher-args, e.g. the HOG detector
   or --detections DIR): WORK/teacher/NAME.json, keypoints with the teacher's joint scores;
2. `ops/train/train.py --data pseudo:WORK/video:WORK/teacher --pseudo-frames 0,0.8`;
3. every student (--init and the trained file) runs on the *teacher's* boxes and tracks
   (`--detections WORK/teacher --det-format json --det-threshold 0`), and `pck` scores it against
   the teacher on the held-out frames: a joint is correct when it is within 0.2 x the box height
   of the teacher's, over the joints the teacher scores >= --min-score.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import engine  # noqa: E402

GROUPS = {"head": (0, 1, 2), "shoulder": (5, 6), "elbow": (7, 8), "wrist": (9, 10), "hip": (11, 12), "knee": (13, 14),
          "ankle": (15, 16)}


def load_people(path):
    doc = json.load(open(path))
    frame_of = {im["id"]: n for n, im in enumerate(doc["images"])}
    people = {}
    for a in doc["annotations"]:
        people[(frame_of[a["image_id"]], a["track_id"])] = (np.array(a["keypoints"], dtype=np.float64).reshape(17, 3),
                                                              np.array(a["bbox"], dtype=np.float64))
    return people, len(doc["images"])


def pck(teacher_file, student_file, held_out_from=0.8, alpha=0.2, min_score=0.5):
    """PCK@alpha of the box height of a student's keypoints against the teacher's, on frames
    >= held_out_from x frames, over the joints the teacher scores >= min_score. A person the
    student did not annotate counts its joints as wrong."""
    teacher, nframes = load_people(teacher_file)
    student, _ = load_people(student_file)
    first = int(round(held_out_from * nframes))
    hits = np.zeros(17)
    total = np.zeros(17)
    for key, (tk, box) in teacher.items():
        if key[0] < first:
            continue
        use = tk[:, 2] >= min_score
        total += use
        if key in student:
            d = np.linalg.norm(student[key][0][:, :2] - tk[:, :2], axis=1)
            hits += use & (d <= alpha * box[3])
    per_group = {g: float(hits[list(j)].sum() / max(total[list(j)].sum(), 1)) * 100 for g, j in GROUPS.items()}
    return {"pck": float(hits.sum() / max(total.sum(), 1)) * 100, "groups": per_group, "joints": int(total.sum()),
            "people": sum(1 for k in teacher if k[0] >= first), "first_frame": first, "frames": nframes}


def run(cmd):
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", required=True)
    ap.add_argument("--teacher", required=True, help="teacher weights for posecoord run --weights")
    ap.add_argument("--teacher-args", default="", help="extra posecoord run arguments for the teacher (boxes)")
    ap.add_argument("--init", required=True, help="the student's starting weights (demo-synth)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--min-score", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--train-args", default="", help="extra train.py arguments")
    args = ap.parse_args()
    posecoord = engine.find_binary("posecoord")
    if not posecoord:
        raise SystemExit("needs the release build (swift build -c release) or POSECLUSTER_BIN")
    video_dir = os.path.join(args.work, "video")
    os.makedirs(video_dir, exist_ok=True)
    name = os.path.splitext(os.path.basename(args.video))[0]
    link = os.path.join(video_dir, os.path.basename(args.video))
    if not os.path.exists(link):
        os.symlink(os.path.abspath(args.video), link)
    teacher_dir = os.path.join(args.work, "teacher")
    if not os.path.exists(os.path.join(teacher_dir, name + ".json")):
        run([posecoord, "run", "--archive", video_dir, "--out", teacher_dir, "--weights", args.teacher,
             "--threads", str(args.threads), *shlex.split(args.teacher_args)])
    if not os.path.exists(args.out):
        run([sys.executable, os.path.join(HERE, "train.py"), "--data", f"pseudo:{video_dir}:{teacher_dir}", "--config", "demo",
             "--init", args.init, "--out", args.out, "--work", os.path.join(args.work, "train"), "--batch", str(args.batch),
             "--max-steps", str(args.steps), "--steps-per-epoch", str(args.steps), "--epochs", "1", "--lr", str(args.lr),
             "--warmup-steps", "20", "--bf16", "--threads", str(args.threads), "--pseudo-frames", "0,0.8",
             "--pseudo-min-score", str(args.min_score), *shlex.split(args.train_args)])
    results = {}
    for label, weights in (("init", args.init), ("distilled", args.out)):
        out = os.path.join(args.work, "student-" + label)
        if not os.path.exists(os.path.join(out, name + ".json")):
            run([posecoord, "run", "--archive", video_dir, "--out", out, "--weights", weights, "--threads", str(args.threads),
                 "--detections", teacher_dir, "--det-format", "json", "--det-threshold", "0"])
        results[label] = pck(os.path.join(teacher_dir, name + ".json"), os.path.join(out, name + ".json"),
                             min_score=args.min_score)
        r = results[label]
        print(f"{label} ({os.path.basename(weights)}): PCK@0.2 {r['pck']:.1f} vs the teacher on frames "
              f"{r['first_frame']}..{r['frames'] - 1} ({r['people']} people, {r['joints']} joints); "
              + ", ".join(f"{g} {v:.1f}" for g, v in r["groups"].items()), flush=True)
    json.dump(results, open(os.path.join(args.work, "pck.json"), "w"), indent=1)
    better = results["distilled"]["pck"] > results["init"]["pck"]
    print(f"distilled {'beats' if better else 'does not beat'} the starting model on the held-out frames")


if __name__ == "__main__":
    main()
