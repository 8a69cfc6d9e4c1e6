"""Writing PoseTrack 2018 per-video files for the evaluation comparisons (ops/eval only).

Shared by make_cases.py (hand-made cases) and make_synthetic.py (realistic random pairs).
Nothing here is needed to build or test posecluster.
"""
import json
import os

KEYPOINTS = [
    "nose", "head_bottom", "head_top", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
]
SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8], [7, 9],
            [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]
CATEGORY = {"supercategory": "person", "id": 1, "name": "person", "keypoints": KEYPOINTS, "skeleton": SKELETON}


def image_id(sequence, frame, source=1):
    return source * 10_000_000_000 + sequence * 10_000 + frame


def video_name(sequence):
    return "%06d_mpii_test" % sequence


def images(sequence, frames, ignore=None):
    """The images list of a video; ignore maps frame -> (regions_x, regions_y)."""
    out = []
    for f in range(frames):
        image = {
            "file_name": "images/val/%s/%06d.jpg" % (video_name(sequence), f),
            "id": image_id(sequence, f), "frame_id": image_id(sequence, f),
            "vid_id": "%06d" % sequence, "nframes": frames, "is_labeled": False,
        }
        if ignore and f in ignore:
            image["ignore_regions_x"], image["ignore_regions_y"] = ignore[f]
        out.append(image)
    return out


def person(sequence, frame, index, track, keypoints, head=None, scores=None):
    """keypoints: 17 (x, y, v) triplets, flattened or not."""
    flat = []
    for k in keypoints:
        flat.extend(k) if isinstance(k, (list, tuple)) else flat.append(k)
    assert len(flat) == 51, len(flat)
    annotation = {
        "id": image_id(sequence, frame) * 100 + index, "image_id": image_id(sequence, frame),
        "track_id": track, "category_id": 1, "keypoints": flat,
        "scores": [] if scores is None else list(scores),
    }
    if head is not None:
        annotation["bbox_head"] = list(head)
    return annotation


def write_video(directory, sequence, frames, annotations, ignore=None, category=CATEGORY):
    os.makedirs(directory, exist_ok=True)
    document = {"images": images(sequence, frames, ignore), "annotations": annotations, "categories": [category]}
    for image in document["images"]:
        image["is_labeled"] = any(a["image_id"] == image["id"] for a in annotations)
    with open(os.path.join(directory, video_name(sequence) + ".json"), "w") as f:
        json.dump(document, f)
