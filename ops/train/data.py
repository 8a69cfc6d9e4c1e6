"""Training data for FTP-Pose: windows from PoseTrack 2017/2018/2021, `posecoord synth` archives
and pseudo-labelled video, cropped as the Swift pipeline crops them (FTP-POSE.md section 1,
ARCHIVE.md "Windows"), with TDMI-style augmentation applied identically to the T frames.

Samples are made in numpy: a sample is a pure function of (window, per-sample seed),
so the data order and the augmentation of a run are fixed by its seed and step, and a resumed
run sees exactly the samples an uninterrupted one would.

A *source* holds a list of `Window`s and can return any frame of any of its videos as uint8
[H, W, 3] RGB. A window is one person (or one background box) in one key frame.
"""

import glob
import json
import os
import subprocess
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ftp_pose import crop_geometry  # FTP-POSE.md section 1: centre and enlarged size

J = 17
# PoseTrack 2018 order (FTP-POSE.md section 6): nose, head_bottom, head_top, l/r ear,
# l/r shoulder, elbow, wrist, hip, knee, ankle.
FLIP_PAIRS = ((3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))
UPPER_BODY = tuple(range(0, 11))
LOWER_BODY = tuple(range(11, 17))
EARS = (3, 4)  # never labelled in PoseTrack
# PoseTrack 2017 (MPII-style ids 0..14) -> 2018 index.
POSETRACK17_TO_18 = (16, 14, 12, 11, 13, 15, 10, 8, 6, 5, 7, 9, 1, 0, 2)
MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])
DET_JITTER = 0.04  # per-edge std of the synthetic detector (SyntheticArchive)


@dataclass
class Window:
    source: int          # index of the source in the dataset
    video: str           # key understood by the source
    frame: int           # key frame index in the video
    box: np.ndarray      # float64 [4] xywh, image pixels
    joints: np.ndarray   # float64 [J, 3]: x, y, weight (0 = unlabelled); ignored when negative
    negative: bool = False
    jitter: bool = False  # move each box edge like the synthetic detector at sample time


# ---------------------------------------------------------------------------------------
# Frame reading (ffmpeg, as PoseMedia reads videos)


def read_video(path):
    """All frames of a video as uint8 [F, H, W, 3], decoded with the pipeline's ffmpeg arguments."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "json", path], check=True, capture_output=True)
    s = json.loads(probe.stdout)["streams"][0]
    w, h = s["width"], s["height"]
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-noautorotate", "-i", path, "-map", "0:v:0",
                          "-vsync", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, h, w, 3)


def read_jpeg(path):
    """One JPEG as uint8 [H, W, 3] via ffmpeg (the engine uses libjpeg-turbo: values may differ by
    the decoders' rounding, the geometry does not)."""
    return read_video(path)[0]


def write_jpeg(path, image):
    """uint8 [H, W, 3] -> JPEG (used to write the fake PoseTrack layout of the tests)."""
    h, w = image.shape[:2]
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
                    "-i", "-", "-q:v", "2", "-frames:v", "1", path], input=np.ascontiguousarray(image).tobytes(), check=True)


# ---------------------------------------------------------------------------------------
# Sources


def keypoints_box(joints, enlarge=1.2):
    """Box (xywh) around the labelled joints, enlarged about its centre; None with < 2 joints."""
    pts = joints[joints[:, 2] > 0, :2]
    if len(pts) < 2:
        return None
    lo, hi = pts.min(0), pts.max(0)
    c, size = (lo + hi) / 2, np.maximum(hi - lo, 1.0) * enlarge
    return np.array([c[0] - size[0] / 2, c[1] - size[1] / 2, size[0], size[1]])


def clip_box(box, img_w, img_h):
    x0, y0 = max(0.0, box[0]), max(0.0, box[1])
    x1, y1 = min(float(img_w), box[0] + box[2]), min(float(img_h), box[1] + box[3])
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return np.array([x0, y0, x1 - x0, y1 - y0])


def iou(a, b):
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter + 1e-12)


def read_posetrack18(path):
    """PoseTrack 2018/2021 per-video JSON -> (image file names in frame order, per frame list of
    (bbox or None, keypoints [J, 3]))."""
    doc = json.load(open(path))
    images = doc["images"]
    if images and "frame_id" in images[0]:
        images = sorted(images, key=lambda im: im["frame_id"])
    index = {im["id"]: n for n, im in enumerate(images)}
    people = [[] for _ in images]
    for a in doc.get("annotations", []):
        kp = a.get("keypoints")
        if a["image_id"] not in index or not kp or len(kp) != 3 * J:
            continue
        kp = np.array(kp, dtype=np.float64).reshape(J, 3)
        kp[:, 2] = kp[:, 2] > 0
        box = a.get("bbox")
        people[index[a["image_id"]]].append((np.array(box, dtype=np.float64) if box and len(box) == 4 else None, kp))
    return [im["file_name"] for im in images], people


def read_posetrack17(path):
    """PoseTrack 2017 per-video JSON (`annolist`, MPII-style 15 joints) -> same as read_posetrack18.
    Its `x1..y2` rectangle is the head box, so the person box is made from the joints."""
    doc = json.load(open(path))
    names, people = [], []
    for entry in doc["annolist"]:
        names.append(entry["image"][0]["name"])
        frame = []
        for rect in entry.get("annorect", []) or []:
            kp = np.zeros((J, 3))
            for ap in rect.get("annopoints", []) or []:
                for p in ap.get("point", []) or []:
                    pid = int(np.ravel(p["id"])[0])
                    # Every annotated point is a target (as poseval scores it); is_visible 0 is occluded.
                    if 0 <= pid < len(POSETRACK17_TO_18):
                        kp[POSETRACK17_TO_18[pid]] = (float(np.ravel(p["x"])[0]), float(np.ravel(p["y"])[0]), 1.0)
            if (kp[:, 2] > 0).any():
                frame.append((None, kp))
        people.append(frame)
    return names, people


def posetrack_annotation_dir(root, split):
    """The folder of per-video JSON files for `split` in an official PoseTrack layout."""
    candidates = [os.path.join(root, "annotations", split), os.path.join(root, "posetrack_data", "annotations", split),
                  os.path.join(root, "posetrack_data", split), os.path.join(root, split)]
    for c in candidates:
        if glob.glob(os.path.join(c, "*.json")):
            return c
    raise SystemExit(f"posetrack:{root}: no per-video JSON files for split '{split}' in any of " + ", ".join(candidates))


class FrameCache:
    """Small LRU of decoded JPEG frames (PoseTrack frames are read lazily)."""

    def __init__(self, capacity=64):
        self.capacity, self.items = capacity, OrderedDict()

    def get(self, path):
        if path in self.items:
            self.items.move_to_end(path)
            return self.items[path]
        img = read_jpeg(path)
        self.items[path] = img
        if len(self.items) > self.capacity:
            self.items.popitem(last=False)
        return img


class PoseTrackSource:
    """PoseTrack 2017, 2018 or 2021 in its official layout: `images/<split>/<video>/*.jpg` and one
    JSON per video under `annotations/<split>` (2017, 2018), `posetrack_data/<split>` (2021) or
    `posetrack_data/annotations/<split>`. Every annotated person with >= `min_joints` labelled
    joints in a labelled frame is a window; the box is the annotation's `bbox` (2018/2021) or the
    joints' extent enlarged by 1.2 (2017, whose rectangle is the head). Neighbour frames are the
    video folder's JPEGs sorted by name, clamped at its ends."""

    kind = "posetrack"

    def __init__(self, root, split="train", min_joints=1, jitter=False, limit_videos=0):
        self.root, self.split = root, split
        ann_dir = posetrack_annotation_dir(root, split)
        self.cache = FrameCache()
        self.folders = {}   # video -> sorted frame paths
        self.windows = []
        files = sorted(glob.glob(os.path.join(ann_dir, "*.json")))
        if limit_videos:
            files = files[:limit_videos]
        for path in files:
            doc_head = open(path).read(4096)
            names, people = (read_posetrack17 if '"annolist"' in doc_head else read_posetrack18)(path)
            video = os.path.splitext(os.path.basename(path))[0]
            frames = None
            for name, persons in zip(names, people):
                if not persons:
                    continue
                image = self._resolve(name, ann_dir)
                if frames is None:
                    frames = sorted(glob.glob(os.path.join(os.path.dirname(image), "*.jpg")))
                    self.folders[video] = frames
                t = frames.index(image)
                for box, kp in persons:
                    if (kp[:, 2] > 0).sum() < min_joints:
                        continue
                    if box is None:
                        box = keypoints_box(kp)
                    if box is None or box[2] <= 0 or box[3] <= 0:
                        continue
                    self.windows.append(Window(0, video, t, box, kp, jitter=jitter))
        if not self.windows:
            raise SystemExit(f"posetrack:{root} ({split}): no annotated person found in {ann_dir}")
        self.description = f"posetrack:{root} split {split}: {len(self.folders)} videos, {len(self.windows)} windows"

    def _resolve(self, name, ann_dir):
        for base in (self.root, os.path.join(self.root, "posetrack_data"), os.path.dirname(os.path.dirname(ann_dir)),
                     os.path.dirname(ann_dir)):
            p = os.path.normpath(os.path.join(base, name))
            if os.path.exists(p):
                return p
        raise SystemExit(f"posetrack:{self.root}: image {name} not found under the dataset root")

    def nframes(self, video):
        return len(self.folders[video])

    def frame(self, video, t):
        return self.cache.get(self.folders[video][t])


class SynthSource:
    """A `posecoord synth` archive (mp4 videos, ground truth in `annotations/`). Each GT person in
    each frame is a window whose box moves like the synthetic detector's (4% per edge, redrawn
    for every sample, clipped to the frame); with `negatives` chance per frame a random box that
    overlaps nobody (IoU < 0.3) is added with all-zero targets, as the detector's false positives.
    Videos are decoded once into memory."""

    kind = "synth"

    def __init__(self, archive, negatives=0.2, seed=0, frame_range=(0.0, 1.0)):
        names = sorted(f[:-4] for f in os.listdir(archive) if f.endswith(".mp4"))
        if not names:
            raise SystemExit(f"synth:{archive}: no .mp4 videos (make them with `posecoord synth`)")
        rng = np.random.default_rng([seed, 0x5E9])
        self.videos, self.windows = {}, []
        for name in names:
            video = read_video(os.path.join(archive, name + ".mp4"))
            self.videos[name] = video
            nframes, ih, iw = video.shape[:3]
            _, people = read_posetrack18(os.path.join(archive, "annotations", name + ".json"))
            lo, hi = int(round(frame_range[0] * nframes)), int(round(frame_range[1] * nframes))
            for t in range(lo, min(hi, nframes, len(people))):
                for box, kp in people[t]:
                    if box is not None and (kp[:, 2] > 0).any():
                        self.windows.append(Window(0, name, t, box, kp, jitter=True))
                if negatives > 0 and rng.uniform() < negatives:
                    w, h = rng.uniform(0.05, 0.25) * iw, rng.uniform(0.1, 0.5) * ih
                    nb = np.array([rng.uniform(0, iw - w), rng.uniform(0, ih - h), w, h])
                    if all(iou(nb, b) < 0.3 for b, _ in people[t] if b is not None):
                        self.windows.append(Window(0, name, t, nb, np.zeros((J, 3)), negative=True))
        n_neg = sum(w.negative for w in self.windows)
        self.description = f"synth:{archive}: {len(names)} videos, {len(self.windows)} windows ({n_neg} background)"

    def nframes(self, video):
        return len(self.videos[video])

    def frame(self, video, t):
        return self.videos[video][t]


class PseudoSource:
    """Real video labelled by a teacher: `pseudo:VIDEOS:LABELS` where LABELS holds the teacher's
    `posecoord run` output (`NAME.json`, PoseTrack 2018 with joint scores as the third keypoint
    value). A joint is a target when its score is >= `min_score`; a person with fewer than
    `min_joints` such joints is skipped. `frame_range` (fractions) selects frames, e.g. (0, 0.8)
    to hold out the last 20%."""

    kind = "pseudo"

    def __init__(self, videos, labels, min_score=0.5, min_joints=4, frame_range=(0.0, 0.8)):
        self.videos, self.windows = {}, []
        names = sorted(os.path.splitext(f)[0] for f in os.listdir(videos)
                       if os.path.splitext(f)[1].lower() in (".mp4", ".avi", ".mkv", ".mov", ".webm"))
        exts = {os.path.splitext(f)[0]: f for f in os.listdir(videos)}
        for name in names:
            label = os.path.join(labels, name + ".json")
            if not os.path.exists(label):
                continue
            video = read_video(os.path.join(videos, exts[name]))
            self.videos[name] = video
            nframes = len(video)
            doc = json.load(open(label))
            index = {im["id"]: n for n, im in enumerate(doc["images"])}
            lo, hi = int(round(frame_range[0] * nframes)), int(round(frame_range[1] * nframes))
            for a in doc["annotations"]:
                t = index[a["image_id"]]
                if not lo <= t < hi:
                    continue
                kp = np.array(a["keypoints"], dtype=np.float64).reshape(J, 3)
                kp[:, 2] = kp[:, 2] >= min_score
                if kp[:, 2].sum() >= min_joints:
                    self.windows.append(Window(0, name, t, np.array(a["bbox"], dtype=np.float64), kp))
        if not self.windows:
            raise SystemExit(f"pseudo:{videos}:{labels}: no labelled person (videos with a NAME.json in {labels})")
        self.description = f"pseudo:{videos}:{labels}: {len(self.videos)} videos, {len(self.windows)} windows, frames {frame_range}"

    def nframes(self, video):
        return len(self.videos[video])

    def frame(self, video, t):
        return self.videos[video][t]


def open_source(spec, seed=0, negatives=0.2, pseudo_min_score=0.5, pseudo_range=(0.0, 0.8)):
    """`synth:DIR`, `posetrack:ROOT[:SPLIT]`, `pseudo:VIDEOS:LABELS`."""
    kind, _, rest = spec.partition(":")
    if kind == "synth":
        return SynthSource(rest, negatives=negatives, seed=seed)
    if kind == "posetrack":
        root, _, split = rest.partition(":")
        return PoseTrackSource(root, split or "train")
    if kind == "pseudo":
        videos, _, labels = rest.partition(":")
        return PseudoSource(videos, labels, min_score=pseudo_min_score, frame_range=pseudo_range)
    raise SystemExit(f"--data {spec}: expected synth:DIR, posetrack:ROOT[:SPLIT] or pseudo:VIDEOS:LABELS")


# ---------------------------------------------------------------------------------------
# Geometry: the pipeline's crop, extended by scale and rotation for augmentation


class Affine:
    """Output pixel (u, v) -> source point. With scale 1 and rotation 0 this is exactly the
    formula of FTP-POSE.md section 1 (same operation order as ftp_pose.crop), so an
    unaugmented window is the engine's window."""

    def __init__(self, geometry, out_h, out_w, scale=1.0, rotation_deg=0.0):
        self.cx, self.cy, sw, sh = geometry
        self.sw, self.sh = sw * scale, sh * scale
        self.out_h, self.out_w = out_h, out_w
        self.rot = float(rotation_deg)
        r = np.deg2rad(self.rot)
        self.cos, self.sin = np.cos(r), np.sin(r)

    def source_points(self):
        u = np.arange(self.out_w, dtype=np.float64)
        v = np.arange(self.out_h, dtype=np.float64)
        dx = (u - self.out_w / 2) * self.sw / self.out_w
        dy = (v - self.out_h / 2) * self.sh / self.out_h
        dx, dy = np.meshgrid(dx, dy)
        if self.rot == 0.0:
            return self.cx + dx, self.cy + dy
        return self.cx + self.cos * dx - self.sin * dy, self.cy + self.sin * dx + self.cos * dy

    def to_crop(self, xy):
        """Image points [N, 2] -> crop pixels [N, 2] (inverse of source_points)."""
        px, py = xy[:, 0] - self.cx, xy[:, 1] - self.cy
        dx = self.cos * px + self.sin * py
        dy = -self.sin * px + self.cos * py
        return np.stack([dx * self.out_w / self.sw + self.out_w / 2, dy * self.out_h / self.sh + self.out_h / 2], -1)


def sample_bilinear(image, xs, ys):
    """float64 [h, w, 3] 0..255: bilinear at (xs, ys), each of the four taps reading 0 outside the
    image (ftp_pose.crop's arithmetic)."""
    img = image
    ih, iw = img.shape[:2]
    x0, y0 = np.floor(xs), np.floor(ys)
    fx, fy = (xs - x0)[..., None], (ys - y0)[..., None]
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)

    def read(yy, xx):
        inside = (xx >= 0) & (xx < iw) & (yy >= 0) & (yy < ih)
        vals = img[np.clip(yy, 0, ih - 1), np.clip(xx, 0, iw - 1)].astype(np.float64)
        return np.where(inside[..., None], vals, 0.0)

    return ((1 - fx) * (1 - fy) * read(y0, x0) + fx * (1 - fy) * read(y0, x0 + 1)
            + (1 - fx) * fy * read(y0 + 1, x0) + fx * fy * read(y0 + 1, x0 + 1))


# ---------------------------------------------------------------------------------------
# Augmentation and targets


@dataclass
class Augment:
    """TDMI-style augmentation (one draw per window, the same for its T frames). Defaults are the
    paper's recipe: flip 0.5 with left/right swap, rotation within +-45 deg (applied with chance
    0.6, drawn N(0, 45) clipped), scale in 0.65..1.35 (N(1, 0.35) clipped), half-body 0.3 when
    more than 8 joints are labelled."""
    flip: float = 0.5
    rotation: float = 45.0
    rotation_prob: float = 0.6
    scale: float = 0.35
    half_body: float = 0.3
    half_body_min_joints: int = 8

    @staticmethod
    def none():
        return Augment(flip=0.0, rotation=0.0, rotation_prob=0.0, scale=0.0, half_body=0.0)


def half_body_box(rng, joints, min_joints):
    """mmpose's half-body transform: the upper or lower body's labelled joints, box x 1.5 in all
    (crop_geometry already gives 1.25; the extra 1.2 is applied by the caller)."""
    vis = joints[:, 2] > 0
    if vis.sum() <= min_joints:
        return None
    upper = [j for j in UPPER_BODY if vis[j]]
    lower = [j for j in LOWER_BODY if vis[j]]
    chosen = upper if (rng.uniform() < 0.5 and len(upper) > 2) or len(lower) <= 2 else lower
    if len(chosen) < 2:
        return None
    pts = joints[chosen, :2]
    lo, hi = pts.min(0), pts.max(0)
    return np.array([lo[0], lo[1], max(hi[0] - lo[0], 1.0), max(hi[1] - lo[1], 1.0)])


def jittered_box(rng, box, img_w, img_h):
    x, y, w, h = box
    x0, y0 = x + DET_JITTER * w * rng.normal(), y + DET_JITTER * h * rng.normal()
    x1, y1 = x + w + DET_JITTER * w * rng.normal(), y + h + DET_JITTER * h * rng.normal()
    return clip_box(np.array([x0, y0, x1 - x0, y1 - y0]), img_w, img_h)


def gaussian_targets(joints, weights, hh, wh, sigma=2.0):
    """joints [J, 2] crop pixels, weights [J] -> heatmaps [J, hh, wh] float32, weights [J]: the
    classic targets of FTP-POSE.md section 6 (centre int(u/4 + 0.5), 6 sigma + 1 window, peak 1);
    weight 0 when the window misses the map."""
    mx = (joints[:, 0] / 4 + 0.5).astype(np.int64)  # int() truncates toward 0, as the classic code
    my = (joints[:, 1] / 4 + 0.5).astype(np.int64)
    r = int(3 * sigma)
    dx = np.arange(wh)[None, None, :] - mx[:, None, None]
    dy = np.arange(hh)[None, :, None] - my[:, None, None]
    heat = np.exp(-(dx * dx + dy * dy) / (2 * sigma ** 2))
    heat[(np.abs(dx) > r) | (np.abs(dy) > r)] = 0
    on_map = (mx - r < wh) & (my - r < hh) & (mx + r + 1 > 0) & (my + r + 1 > 0)
    w = (weights * on_map).astype(np.float32)
    heat[w == 0] = 0
    return heat.astype(np.float32), w


def make_sample(sources, window, cfg, aug, rng, sigma=2.0):
    """One training sample: frames float32 [T, 3, H, W] (normalised), heatmaps [J, Hh, Wh],
    weights [J]. Deterministic given `rng`."""
    h_in, w_in = cfg["input_size"]
    t_frames = cfg["frames"]
    src = sources[window.source]
    nframes = src.nframes(window.video)
    key = src.frame(window.video, window.frame)
    ih, iw = key.shape[:2]
    box, joints = window.box, window.joints.copy()
    if window.jitter:
        box = jittered_box(rng, box, iw, ih)
        if box is None:
            box = window.box
    extra = 1.0
    if aug.half_body > 0 and not window.negative and rng.uniform() < aug.half_body:
        hb = half_body_box(rng, joints, aug.half_body_min_joints)
        if hb is not None:
            box, extra = hb, 1.2
    scale = float(np.clip(rng.normal() * aug.scale + 1, 1 - aug.scale, 1 + aug.scale)) if aug.scale > 0 else 1.0
    rot = 0.0
    if aug.rotation > 0 and rng.uniform() < aug.rotation_prob:
        rot = float(np.clip(rng.normal() * aug.rotation, -aug.rotation, aug.rotation))
    flip = aug.flip > 0 and rng.uniform() < aug.flip
    affine = Affine(crop_geometry(box, h_in, w_in), h_in, w_in, scale * extra, rot)
    xs, ys = affine.source_points()
    frames = []
    for k in range(t_frames):
        t = min(max(window.frame + k - t_frames // 2, 0), nframes - 1)
        img = key if t == window.frame else src.frame(window.video, t)
        crop = np.rint(sample_bilinear(img, xs, ys)).clip(0, 255)  # uint8 values, as the engine's crops
        if flip:
            crop = crop[:, ::-1]
        frames.append(((crop / 255.0 - MEAN) / STD).transpose(2, 0, 1))
    frames = np.stack(frames).astype(np.float32)
    hh, wh = h_in // 4, w_in // 4
    if window.negative:
        heat = np.zeros((J, hh, wh), dtype=np.float32)
        weight = np.ones(J, dtype=np.float32)
        weight[list(EARS)] = 0
        return frames, heat, weight
    uv = affine.to_crop(joints[:, :2])
    if flip:
        uv[:, 0] = w_in - 1 - uv[:, 0]
        for a, b in FLIP_PAIRS:
            uv[[a, b]] = uv[[b, a]]
            joints[[a, b]] = joints[[b, a]]
    heat, weight = gaussian_targets(uv, joints[:, 2], hh, wh, sigma)
    return frames, heat, weight


class WindowDataset:
    """Index: (epoch, position, window index) -> sample; the sample's random draws come from
    numpy's generator seeded with (seed, epoch, position), so they depend on nothing else."""

    def __init__(self, sources, cfg, aug, seed, sigma=2.0):
        self.sources, self.cfg, self.aug, self.seed, self.sigma = sources, cfg, aug, seed, sigma
        self.windows = []
        for i, s in enumerate(sources):
            for w in s.windows:
                w.source = i
                self.windows.append(w)

    def __len__(self):
        return len(self.windows)

    def __getitem__(self, key):
        epoch, position, index = key
        rng = np.random.default_rng([self.seed, epoch, position])
        return make_sample(self.sources, self.windows[index], self.cfg, self.aug, rng, self.sigma)


def epoch_order(seed, epoch, n, rank=0, world=1):
    """This rank's window indices for an epoch: one permutation per (seed, epoch), dealt to ranks."""
    perm = np.random.default_rng([seed, epoch, 0xDA7A]).permutation(n)
    per_rank = n // world
    return perm[rank * per_rank:(rank + 1) * per_rank]
