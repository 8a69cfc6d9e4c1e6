#!/usr/bin/env python3
"""Hand-made evaluation cases, each a pair of folders OUT/<case>/gt and OUT/<case>/pred,
with the AP the case was designed to give (OUT/<case>/expected.json, hand-computed).

The same scenarios are built in Swift in Tests/PoseEvalTests/EvalCasesTests.swift;
compare_with_poseval.py runs both posecoord eval and the official kit on these files.

usage: python3 ops/eval/make_cases.py OUT
"""
import json
import os
import sys

from posetrack_files import person, video_name, write_video

HEAD = (0, 0, 30, 40)  # diagonal 50, head size 0.6 * 50 = 30 px, so 0.5 head sizes = 15 px
# 17 joints relative to the person's origin; ears (3, 4) unannotated.
BODY = [(15, 30), (15, 45), (15, 5), None, None, (0, 60), (30, 60), (-5, 90), (35, 90), (-10, 120), (40, 120),
        (5, 130), (25, 130), (5, 170), (25, 170), (5, 210), (25, 210)]
# PoseTrack keypoint index -> poseval joint id (EvalJoints.names).
POSEVAL = {0: 13, 1: 12, 2: 14, 5: 9, 6: 8, 7: 10, 8: 7, 9: 11, 10: 6, 11: 3, 12: 2, 13: 4, 14: 1, 15: 5, 16: 0}
LEFT_WRIST, RIGHT_WRIST, LEFT_ELBOW, LEFT_ANKLE, RIGHT_ANKLE = 9, 10, 7, 15, 16


def body(ox, oy, v=1, shift=None, drop=(), override=None):
    """17 (x, y, v) triplets; shift: {keypoint: (dx, dy)}; drop: keypoints written as (0, 0, 0)."""
    points = []
    for k, p in enumerate(BODY):
        if p is None or k in drop:
            points.append((0, 0, 0))
            continue
        dx, dy = (shift or {}).get(k, (0, 0))
        points.append((ox + p[0] + dx, oy + p[1] + dy, v))
    for k, value in (override or {}).items():
        points[k] = value
    return points


def head(ox, oy):
    return (ox + HEAD[0], oy + HEAD[1], HEAD[2], HEAD[3])


def gt(frame, index, track, ox, oy, **kw):
    return person(1, frame, index, track, body(ox, oy, **kw), head=head(ox, oy))


def pr(frame, index, track, ox, oy, score=0.9, scores=True, **kw):
    return person(1, frame, index, track, body(ox, oy, v=score, **kw), scores=[score] * 17 if scores else None)


def all_joints(value):
    return [value] * 15


def cases():
    """name -> (gt annotations, pred annotations, frames, ignore, expected per-joint APs, expected total)."""
    out = {}
    # 1. Perfect predictions: 100 everywhere.
    g = [gt(f, i, i, 100 + 200 * i, 50) for f in range(3) for i in range(2)]
    p = [pr(f, i, i, 100 + 200 * i, 50, score=0.5 + 0.1 * i) for f in range(3) for i in range(2)]
    out["perfect"] = (g, p, 3, None, all_joints(100.0), 100.0)

    # 2. Shifted joints: left wrist 14.99 px (kept), right wrist 15.01 px (lost), left elbow exactly 15 px (<= 0.5 kept).
    g = [gt(0, 0, 1, 100, 50)]
    p = [pr(0, 0, 1, 100, 50, shift={LEFT_WRIST: (14.99, 0), RIGHT_WRIST: (0, 15.01), LEFT_ELBOW: (9, 12)})]
    ap = all_joints(100.0); ap[6] = 0.0
    out["shifted"] = (g, p, 1, None, ap, 1400 / 15)

    # 3. Two people listed in the other order, and two predictions that each swap the lower bodies:
    #    each keeps its upper-body person (9 of 15 joints), the lower bodies are false positives.
    g = [gt(0, 0, 1, 100, 50), gt(0, 1, 2, 400, 50), gt(1, 0, 1, 100, 50), gt(1, 1, 2, 400, 50)]
    lower = range(11, 17)
    def swapped(ox_upper, ox_lower):
        points = body(ox_upper, 50, v=0.8)
        for k in lower:
            points[k] = body(ox_lower, 50, v=0.8)[k]
        return points
    p = [pr(0, 0, 7, 400, 50), pr(0, 1, 8, 100, 50),
         person(1, 1, 0, 7, swapped(100, 400), scores=[0.8] * 17), person(1, 1, 1, 8, swapped(400, 100), scores=[0.8] * 17)]
    # hips/knees/ankles: 2 TPs at 0.9 (frame 0) ranked above 2 FPs at 0.8, of 4 GT joints: AP 50.
    ap = all_joints(100.0)
    for j in (0, 1, 2, 3, 4, 5):
        ap[j] = 50.0
    out["swapped"] = (g, p, 2, None, ap, (9 * 100 + 6 * 50) / 15)

    # 4. An extra false positive: low score (AP stays 100), and in frame 1 a high score one (AP 50 there).
    g = [gt(0, 0, 1, 100, 50)]
    p = [pr(0, 0, 1, 100, 50, score=0.9), pr(0, 1, 2, 500, 300, score=0.1)]
    out["false_positive_low"] = (g, p, 1, None, all_joints(100.0), 100.0)
    p = [pr(0, 0, 1, 100, 50, score=0.9), pr(0, 1, 2, 500, 300, score=0.95)]
    out["false_positive_high"] = (g, p, 1, None, all_joints(50.0), 50.0)

    # 5. Ignore region x 195..300 (a rectangle) over person B. Frame 0: A (its left wrist, at x = 195, lies
    #    on the boundary: kept) and B, both predicted exactly at 0.9, plus a false positive inside the region.
    #    Frame 1: only B, inside; a prediction C outside at 0.95 is a false positive.
    region = ([[195, 300, 300, 195]], [[0, 0, 400, 400]])
    g = [gt(0, 0, 1, 205, 50, shift={LEFT_WRIST: (0, 0)}), gt(0, 1, 2, 220, 100), gt(1, 0, 2, 220, 100)]
    # Person A at origin 0 with its left wrist moved onto x = 195 exactly.
    g[0] = person(1, 0, 0, 1, body(100, 50, override={LEFT_WRIST: (195, 170, 1)}), head=head(100, 50))
    p = [person(1, 0, 0, 1, body(100, 50, v=0.9, override={LEFT_WRIST: (195, 170, 0.9)}), scores=[0.9] * 17),
         pr(0, 1, 2, 220, 100), pr(0, 2, 3, 230, 150, score=0.99), pr(1, 0, 2, 220, 100), pr(1, 1, 5, 500, 50, score=0.95)]
    out["ignore_region"] = (g, p, 2, {0: region, 1: region}, all_joints(50.0), 50.0)

    # 6. A frame without ground truth people: predictions there are ignored.
    g = [gt(0, 0, 1, 100, 50), gt(2, 0, 1, 100, 50)]
    p = [pr(0, 0, 1, 100, 50, score=0.5), pr(1, 0, 1, 300, 50, score=0.99), pr(2, 0, 1, 100, 50, score=0.5)]
    out["empty_frame"] = (g, p, 3, None, all_joints(100.0), 100.0)

    # 7. A ground-truth person with no annotated joint still makes its frame evaluated: the prediction
    #    there (0.99) is a false positive ranked above two true positives (0.5): AP = 2/3.
    g = [gt(0, 0, 1, 100, 50), gt(1, 0, 1, 100, 50, drop=range(17)), gt(2, 0, 1, 100, 50)]
    p = [pr(0, 0, 1, 100, 50, score=0.5), pr(1, 0, 1, 100, 50, score=0.99), pr(2, 0, 1, 100, 50, score=0.5)]
    out["person_without_joints"] = (g, p, 3, None, all_joints(200 / 3), 200 / 3)

    # 8. Tied scores: the later entry ranks first (argsort()[::-1]). TP listed before FP: AP 50; after: 100.
    g = [gt(0, 0, 1, 100, 50)]
    out["ties_true_first"] = (g, [pr(0, 0, 1, 100, 50, score=0.5), pr(0, 1, 2, 500, 50, score=0.5)], 1, None,
                              all_joints(50.0), 50.0)
    out["ties_false_first"] = (g, [pr(0, 0, 2, 500, 50, score=0.5), pr(0, 1, 1, 100, 50, score=0.5)], 1, None,
                               all_joints(100.0), 100.0)

    # 9. Greedy matching with equal shares: two identical GT people, two exact predictions. Both predictions
    #    prefer GT 0 (lowest index), GT 0 takes the first, the second (0.7, ranked first) is a false positive
    #    and GT 1 stays unmatched: AP = 0.5 (recall) x 0.5 (precision) = 25. Hungarian matching would give 100.
    g = [gt(0, 0, 1, 100, 50), gt(0, 1, 2, 100, 50)]
    p = [pr(0, 0, 1, 100, 50, score=0.6), pr(0, 1, 2, 100, 50, score=0.7)]
    out["greedy_tie"] = (g, p, 1, None, all_joints(25.0), 25.0)

    # 10. Missing scores: the prediction without `scores` scores -9999, below a 0.1 false positive: AP 50.
    g = [gt(0, 0, 1, 100, 50)]
    p = [pr(0, 0, 1, 100, 50, score=0.9, scores=False), pr(0, 1, 2, 500, 50, score=0.1)]
    out["missing_scores"] = (g, p, 1, None, all_joints(50.0), 50.0)

    # 11. Visibility: a GT left ankle with v = 0 but real coordinates is annotated (predicted there: 100);
    #     a predicted right ankle at (0, 0) with a non-zero third value is a real (wrong) point: 0.
    g = [person(1, 0, 0, 1, body(100, 50, override={LEFT_ANKLE: (105, 260, 0)}), head=head(100, 50))]
    p = [person(1, 0, 0, 1, body(100, 50, v=0.9, override={RIGHT_ANKLE: (0, 0, 0.9)}), scores=[0.9] * 17)]
    ap = all_joints(100.0); ap[0] = 0.0
    out["visibility"] = (g, p, 1, None, ap, 1400 / 15)

    # 12. A joint never annotated but predicted has AP NaN (left out of the total); a joint neither
    #     annotated nor predicted has AP 0 (counted).
    g = [gt(0, 0, 1, 100, 50, drop=(LEFT_WRIST, RIGHT_WRIST))]
    p = [pr(0, 0, 1, 100, 50, drop=(RIGHT_WRIST,))]
    ap = all_joints(100.0); ap[11] = float("nan"); ap[6] = 0.0
    out["nan_joint"] = (g, p, 1, None, ap, 1300 / 14)

    # 13. A zero-size head box: distances are inf or NaN, nothing matches.
    g = [person(1, 0, 0, 1, body(100, 50), head=(100, 50, 0, 0))]
    p = [pr(0, 0, 1, 100, 50)]
    out["zero_head"] = (g, p, 1, None, all_joints(0.0), 0.0)
    return out


def tracking(mota, motp, precision, recall):
    return {"mota": mota, "motp": motp, "precision": precision, "recall": recall}


def tracking_cases():
    """name -> (gt, pred, frames, APs, AP total, expected tracking totals, gt as annolist?).
    Every joint behaves alike, so the totals are each joint's value. poseval's evaluateTracking
    leaves out each video's last evaluated frame, and a frame with no ground truth or no
    prediction counts one miss and one false positive per joint (its placeholder)."""
    out = {}
    five = {k: (3, 4) for k in range(17)}   # 5 px = 1/6 head size on every joint
    # T1. Two people tracked throughout, predictions 1/6 head size off. Frames 0-1 count: 4 matches.
    #     D sums the RAW rows too: 4 x 1/6 (RAW) + 4 x 1/6 (MATCH) = 8/6, MOTP = 100 (1 - (8/6) / 4).
    g = [gt(f, i, i + 1, 100 + 200 * i, 50) for f in range(3) for i in range(2)]
    p = [pr(f, i, 7 + i, 100 + 200 * i, 50, shift=five) for f in range(3) for i in range(2)]
    out["track_motp"] = (g, p, 3, all_joints(100.0), 100.0, tracking(100.0, 100 * (1 - 2 / 6), 100.0, 100.0), False)

    # T2. The two prediction ids swap in frame 2: 2 switches (6 objects), MOTA 100 (1 - 2/6).
    #     Frame 2 adds RAW 2/6, SWITCH 2/6 and TRANSFER 2/6 (each hypothesis belonged to the other
    #     person): D = 8/6 + 6/6, MOTP = 100 (1 - (14/6) / 6).
    g = [gt(f, i, i + 1, 100 + 200 * i, 50) for f in range(4) for i in range(2)]
    p = [pr(f, i, (7 + i) if f < 2 else (8 - i), 100 + 200 * i, 50, shift=five) for f in range(4) for i in range(2)]
    out["track_switch"] = (g, p, 4, all_joints(100.0), 100.0, tracking(100 * (1 - 2 / 6), 100 * (1 - 14 / 36), 100.0, 100.0), False)

    # T3. Frame 0: a match and a false positive (score 0.5); frame 1: the person is missed, so the
    #     placeholder: 1 object missed and 1 false positive; frame 2 is left out of tracking.
    #     2 objects, 1 match, 1 miss, 2 false positives: MOTA -50, precision 1/3, recall 1/2.
    #     AP: 0.9 T, 0.9 T, 0.5 F with 3 annotated: 2/3.
    g = [gt(f, 0, 1, 100, 50) for f in range(3)]
    p = [pr(0, 0, 5, 100, 50), pr(0, 1, 6, 500, 300, score=0.5), pr(2, 0, 5, 100, 50)]
    out["track_placeholder"] = (g, p, 3, all_joints(200 / 3), 200 / 3, tracking(-50.0, 100.0, 100 / 3, 50.0), False)

    # T4. PoseTrack 2017 annolist ground truth: frame 1 lists a person without annopoints, so it is
    #     evaluated but that person is dropped: the prediction there is a false positive for AP
    #     (0.8, under both hits: AP 100) and the tracking placeholder (1 miss, 1 false positive).
    g = [gt(0, 0, 1, 100, 50), "no points", gt(2, 0, 1, 100, 50)]
    p = [pr(0, 0, 5, 100, 50), pr(1, 0, 5, 100, 50, score=0.8), pr(2, 0, 5, 100, 50)]
    out["track_annolist"] = (g, p, 3, all_joints(100.0), 100.0, tracking(0.0, 100.0, 50.0, 50.0), True)
    return out


def annolist(annotations, frames):
    """The 2017 format of gt(...) annotations: joints by poseval id, head box corners, one-element
    lists; the string "no points" stands for a person without annopoints in frame index order."""
    frames_out = [{"image": [{"name": "images/val/%s/%06d.jpg" % (video_name(1), f)}], "imgnum": [f + 1], "annorect": []}
                  for f in range(frames)]
    for f, a in enumerate(annotations):
        if a == "no points":
            frames_out[f]["annorect"].append({"track_id": [9], "x1": [0], "y1": [0], "x2": [30], "y2": [40]})
            continue
        frame = a["image_id"] % 10_000
        x, y, w, h = a["bbox_head"]
        points = []
        for k in range(17):
            px, py, v = a["keypoints"][3 * k:3 * k + 3]
            if k in POSEVAL and not (px == 0 and py == 0 and v == 0):
                points.append({"id": [POSEVAL[k]], "x": [px], "y": [py], "is_visible": [1]})
        frames_out[frame]["annorect"].append({"track_id": [a["track_id"]], "x1": [x], "y1": [y], "x2": [x + w], "y2": [y + h],
                                              "annopoints": [{"point": points}]})
    return {"annolist": frames_out}


def main():
    root = sys.argv[1]
    for name, (g, p, frames, ignore, ap, total) in cases().items():
        write_video(os.path.join(root, name, "gt"), 1, frames, g, ignore)
        write_video(os.path.join(root, name, "pred"), 1, frames, p)
        with open(os.path.join(root, name, "expected.json"), "w") as f:
            json.dump({"ap": [None if x != x else x for x in ap], "total": total}, f)
    for name, (g, p, frames, ap, total, expected_tracking, as_annolist) in tracking_cases().items():
        if as_annolist:
            os.makedirs(os.path.join(root, name, "gt"), exist_ok=True)
            with open(os.path.join(root, name, "gt", video_name(1) + ".json"), "w") as f:
                json.dump(annolist(g, frames), f)
        else:
            write_video(os.path.join(root, name, "gt"), 1, frames, g)
        write_video(os.path.join(root, name, "pred"), 1, frames, p)
        with open(os.path.join(root, name, "expected.json"), "w") as f:
            json.dump({"ap": ap, "total": total, "tracking": expected_tracking}, f)
    print("wrote %d cases under %s" % (len(cases()) + len(tracking_cases()), root))


if __name__ == "__main__":
    main()
