#!/usr/bin/env python3
"""Realistic random ground-truth / prediction pairs for comparing posecoord eval with the
official kit: several videos, people walking in and out, sparse labelled frames, unannotated
joints, ignore regions (convex, star-shaped and the odd self-intersecting one), noisy
predictions with outliers, misses, duplicates and false positives, predictions on unlabelled
frames. Scores are continuous, so ties are rare.

usage: python3 ops/eval/make_synthetic.py OUT [--videos 8] [--frames 60] [--seed 1] [--score-decimals N] [--keep-tracks]
--score-decimals rounds joint scores (many ties: shows how the kit's unstable sort moves AP)
--keep-tracks    predictions keep their person's track id (renamed with probability 2 % per frame,
                 duplicates and false positives with ids of their own), for the tracking metrics;
                 without it prediction track ids are arbitrary per frame. Positions are the same.
writes OUT/gt/NNNNNN_mpii_test.json and OUT/pred/NNNNNN_mpii_test.json
"""
import argparse
import math
import os
import random

from posetrack_files import CATEGORY, KEYPOINTS, person, write_video

POSEVAL_ORDER = ["right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "right_wrist",
                 "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist", "head_bottom", "nose",
                 "head_top"]

WIDTH, HEIGHT = 1280, 720
# A standing person, 17 keypoints relative to the head box's top-left corner at scale 1.
BODY = [(15, 30), (15, 45), (15, 5), None, None, (0, 60), (30, 60), (-5, 90), (35, 90), (-10, 120), (40, 120),
        (5, 130), (25, 130), (5, 170), (25, 170), (5, 210), (25, 210)]


def polygon(rng, cx, cy, radius):
    kind = rng.random()
    if kind < 0.4:        # axis-aligned rectangle with integer corners (points may fall on its edges)
        w, h = int(radius * rng.uniform(0.6, 1.4)), int(radius * rng.uniform(0.6, 1.4))
        x, y = int(cx - w / 2), int(cy - h / 2)
        return [x, x + w, x + w, x], [y, y, y + h, y + h]
    if kind < 0.9:        # star-shaped: vertices sorted by angle
        n = rng.randint(3, 8)
        angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(n))
        radii = [radius * rng.uniform(0.4, 1.2) for _ in range(n)]
        return ([round(cx + r * math.cos(a), 1) for a, r in zip(angles, radii)],
                [round(cy + r * math.sin(a), 1) for a, r in zip(angles, radii)])
    r = radius            # a bow tie (self-intersecting)
    return [cx - r, cx + r, cx + r, cx - r], [cy - r, cy + r, cy - r, cy + r]


def make_video(rng, sequence, frames, gt_dir, pred_dir, decimals=None, track_rng=None):
    tracks = []
    renamed = {}
    for t in range(rng.randint(2, 6)):
        scale = rng.uniform(0.6, 1.6)
        tracks.append({
            "id": t + 1, "scale": scale, "x": rng.uniform(50, WIDTH - 150), "y": rng.uniform(20, HEIGHT - 300 * scale),
            "vx": rng.uniform(-4, 4), "vy": rng.uniform(-1, 1),
            "start": rng.randint(0, frames // 3), "end": rng.randint(2 * frames // 3, frames),
            "head": (30 * scale * rng.uniform(0.8, 1.2), 40 * scale * rng.uniform(0.8, 1.2)),
        })
    middle = range(frames // 3, frames // 3 + min(15, frames // 3))
    gt_annotations, pred_annotations, ignore = [], [], {}
    for f in range(frames):
        labelled = f % 4 == 0 or f in middle
        present = [t for t in tracks if t["start"] <= f < t["end"]]
        truths = []
        for t in present:
            x, y = t["x"] + t["vx"] * f, t["y"] + t["vy"] * f
            s = t["scale"]
            points = [None if p is None else (x + s * p[0] + rng.gauss(0, 2), y + s * p[1] + rng.gauss(0, 2)) for p in BODY]
            truths.append((t, points, (x, y, t["head"][0], t["head"][1])))
        if labelled and present:
            if rng.random() < 0.25:
                regions_x, regions_y = [], []
                for _ in range(rng.choice([1, 1, 2])):
                    if rng.random() < 0.5:   # over a person
                        _, points, _ = rng.choice(truths)
                        cx, cy = points[rng.choice([0, 11, 13])]
                    else:
                        cx, cy = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT)
                    xs, ys = polygon(rng, cx, cy, rng.uniform(40, 200))
                    regions_x.append(xs); regions_y.append(ys)
                ignore[f] = (regions_x, regions_y)
            for index, (t, points, head) in enumerate(truths):
                keypoints = []
                empty = rng.random() < 0.01
                for k, p in enumerate(points):
                    if p is None or empty or rng.random() < 0.1:
                        keypoints.append((0, 0, 0))
                    else:
                        keypoints.append((round(p[0], 2), round(p[1], 2), 0 if rng.random() < 0.03 else 1))
                gt_annotations.append(person(sequence, f, index, t["id"], keypoints,
                                             head=tuple(round(v, 2) for v in head)))
        # Predictions on every frame.
        predictions = []
        for t, points, head in truths:
            if track_rng is not None and track_rng.random() < 0.02:
                renamed[t["id"]] = renamed.get(t["id"], t["id"]) + 100
            if rng.random() < 0.1:
                continue                                   # missed person
            copies = 2 if rng.random() < 0.05 else 1       # the odd duplicate detection
            for c in range(copies):
                base = rng.uniform(0.3, 1.0) * (0.6 if c else 1.0)
                size = 0.6 * math.hypot(*head[2:])
                sigma = size * rng.uniform(0.03, 0.3)
                keypoints, scores = [], []
                for k, p in enumerate(points):
                    score = base * rng.uniform(0.5, 1.0)
                    score = round(score, decimals) if decimals is not None else score
                    scores.append(score)
                    if p is None or rng.random() < 0.03:
                        keypoints.append((0, 0, 0))
                    elif rng.random() < 0.002:
                        keypoints.append((0, 0, score))    # a real point at the origin
                    else:
                        spread = 3 * size if rng.random() < 0.05 else sigma
                        keypoints.append((p[0] + rng.gauss(0, spread), p[1] + rng.gauss(0, spread), score))
                predictions.append((keypoints, scores, renamed.get(t["id"], t["id"]) % 5000 + 5000 * c))
        for fp in range(rng.choice([0, 0, 0, 1, 1, 2])):   # false positives
            x, y, s = rng.uniform(0, WIDTH - 60), rng.uniform(0, HEIGHT - 250), rng.uniform(0.6, 1.6)
            base = rng.uniform(0.0, 0.6)
            keypoints = [(0, 0, 0) if p is None else (x + s * p[0] + rng.gauss(0, 5), y + s * p[1] + rng.gauss(0, 5), base)
                         for p in BODY]
            predictions.append((keypoints, [base * rng.uniform(0.5, 1.0) for _ in BODY], 9000 + fp))
        rng.shuffle(predictions)
        for index, (keypoints, scores, track) in enumerate(predictions):
            pred_annotations.append(person(sequence, f, index, track if track_rng is not None else index + 1, keypoints, scores=scores))
    write_video(gt_dir, sequence, frames, gt_annotations, ignore)
    if sequence % 3 == 1:
        # Some prediction files list 15 keypoints in poseval's own order, without ears: joints are
        # matched by name, so this must not change anything.
        order = [KEYPOINTS.index(n) for n in POSEVAL_ORDER]
        for a in pred_annotations:
            a["keypoints"] = [v for k in order for v in a["keypoints"][3 * k:3 * k + 3]]
            a["scores"] = [a["scores"][k] for k in order]
        category = dict(CATEGORY, keypoints=POSEVAL_ORDER, skeleton=[])
        write_video(pred_dir, sequence, frames, pred_annotations, category=category)
    else:
        write_video(pred_dir, sequence, frames, pred_annotations)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--score-decimals", type=int)
    parser.add_argument("--keep-tracks", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    for v in range(args.videos):
        make_video(rng, 10_000 + 17 * v, args.frames, os.path.join(args.out, "gt"), os.path.join(args.out, "pred"),
                   args.score_decimals, random.Random(args.seed * 1000 + v) if args.keep_tracks else None)
    print("wrote %d videos of %d frames under %s" % (args.videos, args.frames, args.out))


if __name__ == "__main__":
    main()
