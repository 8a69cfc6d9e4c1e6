#!/usr/bin/env python3
"""Checks that COCO tools accept posecluster's files: for every video, pycocotools' COCO() loads
the ground truth (`posecoord synth`'s DIR/annotations/NAME.json) and our output (OUT/NAME.json),
loadRes() takes our annotations as keypoint results, and COCOeval(..., 'keypoints') runs on them.
Two controls make the check able to fail: the ground truth scored as its own results must give
AP 1, and the same results moved 10000 px to the right AP 0.

usage: python3 ops/coco/check_coco.py GT_DIR OUT_DIR
Exit status 0 when every check passes. Needs numpy and pycocotools (PyPI); posecluster never does.
"""
import contextlib
import copy
import io
import json
import os
import sys

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def load(path):
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(path)


def keypoint_ap(truth, results):
    """COCOeval keypoints AP (stats[0]) of a list of result annotations against a COCO object."""
    with contextlib.redirect_stdout(io.StringIO()):
        detections = truth.loadRes(results)
        evaluation = COCOeval(truth, detections, "keypoints")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return float(evaluation.stats[0])


def main():
    gt_dir, out_dir = sys.argv[1], sys.argv[2]
    names = sorted(n for n in os.listdir(gt_dir) if n.endswith(".json") and not n.startswith("."))
    if not names:
        sys.exit("no ground-truth files in %s" % gt_dir)
    problems = []
    for name in names:
        truth = load(os.path.join(gt_dir, name))
        ours = load(os.path.join(out_dir, name))        # COCO() accepts our output as a dataset
        annotations = ours.loadAnns(ours.getAnnIds())
        for a in annotations:
            for key in ("id", "num_keypoints", "area", "image_id", "category_id", "keypoints", "score"):
                if key not in a:
                    problems.append("%s: annotation %s has no %s" % (name, a.get("id"), key))
        if len({a["id"] for a in annotations}) != len(annotations) or min(a["id"] for a in annotations) < 1:
            problems.append("%s: annotation ids are not unique positive numbers" % name)
        ap = keypoint_ap(truth, copy.deepcopy(annotations))
        if not (0 <= ap <= 1):
            problems.append("%s: COCOeval keypoints AP %s is not in 0...1" % (name, ap))
        perfect = [dict(a, score=1.0) for a in copy.deepcopy(truth.loadAnns(truth.getAnnIds())) if a["num_keypoints"] > 0]
        self_ap = keypoint_ap(truth, perfect)
        shifted = copy.deepcopy(perfect)
        for a in shifted:
            a["keypoints"] = [v + (10000 if i % 3 == 0 else 0) for i, v in enumerate(a["keypoints"])]
        shifted_ap = keypoint_ap(truth, shifted)
        if abs(self_ap - 1) > 1e-9 or shifted_ap > 1e-9:
            problems.append("%s: controls failed: ground truth as results AP %s (expected 1), shifted AP %s (expected 0)"
                            % (name, self_ap, shifted_ap))
        print("%s: %d predicted people, COCO keypoints AP %.3f (controls: %.3f and %.3f)"
              % (name, len(annotations), ap, self_ap, shifted_ap))
    for problem in problems:
        print("PROBLEM " + problem)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
