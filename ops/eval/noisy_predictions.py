#!/usr/bin/env python3
"""Predictions made from any PoseTrack ground-truth folder by perturbing it: joint noise in
head sizes with outliers, dropped joints, missed people, duplicates, false positives, and
continuous joint scores. For comparing posecoord eval with the official kit on ground truth
written by someone else (e.g. `posecoord synth`'s DIR/annotations) when no model output is at hand.

With --keep-tracks, predictions keep their person's ground-truth track id, except that each
track is renamed (a new id from then on) with probability 2 % per frame, duplicates and false
positives get ids of their own: a tracker that mostly works, for the tracking metrics. Without
it track ids are arbitrary per frame (the positions are the same either way).

usage: python3 ops/eval/noisy_predictions.py GT_DIR OUT_DIR [--seed 1] [--keep-tracks]
"""
import argparse
import json
import math
import os
import random


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gt")
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-tracks", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    track_rng = random.Random(args.seed + 1000)
    os.makedirs(args.out, exist_ok=True)
    names = sorted(n for n in os.listdir(args.gt) if n.endswith(".json") and not n.startswith("."))
    for name in names:
        with open(os.path.join(args.gt, name)) as f:
            truth = json.load(f)
        by_image = {}
        for a in truth["annotations"]:
            by_image.setdefault(a["image_id"], []).append(a)
        annotations = []
        renamed = {}
        for image in truth["images"]:
            people = []
            for a in by_image.get(image["id"], []):
                if rng.random() < 0.1:
                    continue
                box = a.get("bbox_head") or [0, 0, 20, 25]
                size = 0.6 * math.hypot(box[2], box[3])
                if args.keep_tracks and track_rng.random() < 0.02:
                    renamed[a["track_id"]] = renamed.get(a["track_id"], a["track_id"]) + 100
                for copy in range(2 if rng.random() < 0.05 else 1):
                    base = rng.uniform(0.3, 1.0) * (0.6 if copy else 1.0)
                    sigma = size * rng.uniform(0.03, 0.3)
                    keypoints, scores = [], []
                    for k in range(17):
                        x, y, v = a["keypoints"][3 * k:3 * k + 3]
                        score = base * rng.uniform(0.5, 1.0)
                        scores.append(score)
                        if (x == 0 and y == 0 and v == 0) or rng.random() < 0.03:
                            keypoints += [0, 0, 0]
                            continue
                        spread = 3 * size if rng.random() < 0.05 else sigma
                        keypoints += [x + rng.gauss(0, spread), y + rng.gauss(0, spread), score]
                    track = renamed.get(a["track_id"], a["track_id"]) % 5000 + 5000 * copy
                    people.append((keypoints, scores, track))
            for fp in range(rng.choice([0, 0, 1])):
                template = rng.choice(truth["annotations"])["keypoints"] if truth["annotations"] else [0] * 51
                dx, dy, base = rng.uniform(-150, 150), rng.uniform(-80, 80), rng.uniform(0, 0.6)
                keypoints = []
                for k in range(17):
                    x, y, v = template[3 * k:3 * k + 3]
                    keypoints += [0, 0, 0] if (x == 0 and y == 0) else [x + dx, y + dy, base]
                people.append((keypoints, [base * rng.uniform(0.5, 1.0) for _ in range(17)], 9000 + fp))
            rng.shuffle(people)
            for index, (keypoints, scores, track) in enumerate(people):
                annotations.append({"image_id": image["id"], "id": image["id"] * 100 + index,
                                    "track_id": track if args.keep_tracks else index,
                                    "category_id": 1, "keypoints": keypoints, "scores": scores})
        document = {"images": truth["images"], "annotations": annotations, "categories": truth["categories"]}
        with open(os.path.join(args.out, name), "w") as f:
            json.dump(document, f)
    print("wrote %d prediction files to %s" % (len(names), args.out))


if __name__ == "__main__":
    main()
