#!/usr/bin/env python3
"""Checks `posecoord run --detector hog` output on real footage (ops/ci/real-clip.sh):
    check_annotations.py OUT VIDEO FRAMES EMPTY_VIDEO EMPTY_FRAMES
VIDEO: every one of FRAMES frames has at least one person; keypoints land in their person's box:
at least 90% inside the box itself and every one inside the box grown by half its size on each
side (the model sees more than the box: a crop grown to its aspect and by 1.25, so an arm may
reach past a HOG box's edge); report `done`.
EMPTY_VIDEO: FRAMES images, no annotations, report `done`."""
import json, os, sys

def load_report(out):
    for path in (os.path.join(out, "_posecluster", "job.json"), os.path.join(out, "_job.json")):
        if os.path.exists(path):
            return {v["name"]: v for v in json.load(open(path))["videos"]}
    sys.exit(f"no job report in {out}")

def main():
    out, video, frames, empty, empty_frames = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    report = load_report(out)
    doc = json.load(open(os.path.join(out, video + ".json")))
    assert report[video]["status"] == "done", report[video]
    assert len(doc["images"]) == frames, (len(doc["images"]), frames)
    people = {}
    outside = far = total = 0
    for a in doc["annotations"]:
        people[a["image_id"]] = people.get(a["image_id"], 0) + 1
        x, y, w, h = a["bbox"]
        k = a["keypoints"]
        for j in range(len(k) // 3):
            px, py = k[3 * j], k[3 * j + 1]
            total += 1
            if not (x <= px <= x + w and y <= py <= y + h):
                outside += 1
            if not (x - 0.5 * w <= px <= x + 1.5 * w and y - 0.5 * h <= py <= y + 1.5 * h):
                far += 1
    missing = [im["id"] for im in doc["images"] if people.get(im["id"], 0) == 0]
    assert not missing, f"{len(missing)} frames without people: {missing[:10]}"
    assert total > 0 and far == 0, f"{far} of {total} keypoints far outside their person's box"
    assert outside <= 0.1 * total, f"{outside} of {total} keypoints outside their person's box"
    counts = report[video]["counts"]
    print(f"ok: {video}: {frames} of {frames} frames annotated, {len(doc['annotations'])} people-frames "
          f"({counts.get('detections')} HOG boxes, {counts.get('carried')} carried by the tracker), {total - outside} of {total} keypoints inside their boxes, all within half a box of them")
    seconds = report[video].get("seconds", {})
    if "detect" in seconds and "model" in seconds:
        print("cost split (s): " + ", ".join(f"{k} {seconds[k]:.2f}" for k in ("detect", "detect_decode", "decode_crop", "model", "total") if k in seconds))
    empty_doc = json.load(open(os.path.join(out, empty + ".json")))
    assert report[empty]["status"] == "done", report[empty]
    assert len(empty_doc["images"]) == empty_frames and empty_doc["annotations"] == [], (len(empty_doc["images"]), len(empty_doc["annotations"]))
    print(f"ok: {empty}: nobody found, {empty_frames} frames written with empty annotations, status done")

if __name__ == "__main__":
    main()
