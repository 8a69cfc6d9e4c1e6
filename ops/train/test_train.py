"""Tests of the trainer (need torch and ffmpeg; the ones that run the Swift engine need the release
build, .build/release/{posecoord,poseworker}). Run: python3 -m pytest -q ops/train/test_train.py
Each test skips with its reason when something it needs is missing."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "ops", "reference"))
sys.path.insert(0, HERE)

torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch): trainer tests skipped")

import data  # noqa: E402
import engine  # noqa: E402
import safetensors_io  # noqa: E402
import vitpose  # noqa: E402
from configs import PRESETS  # noqa: E402
from ftp_pose import FTPPose, crop, decode  # noqa: E402

POSECOORD = engine.find_binary("posecoord")
POSEWORKER = engine.find_binary("poseworker")
needs_engine = pytest.mark.skipif(not (POSECOORD and POSEWORKER),
                                  reason="no release build (swift build -c release): engine tests skipped")
TRAIN = os.path.join(HERE, "train.py")


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    if not POSECOORD:
        pytest.skip("no posecoord binary to make a synthetic archive")
    out = tmp_path_factory.mktemp("synth") / "archive"
    subprocess.run([POSECOORD, "synth", "--out", str(out), "--videos", "2", "--frames", "12", "--seed", "321"],
                   check=True, capture_output=True)
    return str(out)


def train(args, **kw):
    return subprocess.run([sys.executable, TRAIN, "--threads", "1", *args], capture_output=True, text=True, **kw)


# ---------------------------------------------------------------------------------------
# Geometry and augmentation (no engine needed)


def test_unaugmented_crop_is_the_pipelines_crop():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    for box in [(10.5, 20.25, 40, 60), (-15, -10, 50, 70), (100, 70, 40, 30), (3.3, 4.7, 2.5, 3.1)]:
        affine = data.Affine(data.crop_geometry(box, 64, 48), 64, 48)
        xs, ys = affine.source_points()
        got = data.sample_bilinear(image, xs, ys)
        assert np.array_equal(got, crop(image, box, 64, 48)), box


class FixedRng:
    """uniform() is always 0 (every 'with chance p' happens), normal() returns the given values in order."""

    def __init__(self, normals):
        self.normals = list(normals)

    def uniform(self):
        return 0.0

    def normal(self):
        return self.normals.pop(0)


class PaintedSource:
    """One still image, three frames: dark, with a bright dot at joint 5 and dim dots at others."""

    def __init__(self, points):
        self.image = np.zeros((200, 160, 3), dtype=np.uint8)
        self.joints = np.zeros((17, 3))
        for j, (x, y) in points.items():
            self.image[y - 1:y + 2, x - 1:x + 2] = 255 if j == 5 else 120
            self.joints[j] = (x, y, 1)

    def nframes(self, video):
        return 3

    def frame(self, video, t):
        return self.image


@pytest.mark.parametrize("rotation,scale,flip", [(0.0, 1.0, False), (30.0, 0.65, False), (-40.0, 1.35, True), (0.0, 1.0, True)])
def test_augmented_joints_follow_the_pixels(rotation, scale, flip):
    """The dot of a joint lands where its target peaks, for rotated, scaled and flipped windows,
    and every frame of the window gets the same transform."""
    src = PaintedSource({5: (60, 80), 6: (100, 80), 15: (70, 150), 0: (80, 50)})
    window = data.Window(0, "v", 1, np.array([50.0, 40.0, 60.0, 120.0]), src.joints)
    aug = data.Augment(flip=float(flip), rotation=abs(rotation), rotation_prob=float(rotation != 0),
                       scale=abs(scale - 1), half_body=0.0)
    normals = ([np.sign(scale - 1)] if scale != 1 else []) + ([np.sign(rotation)] if rotation else [])
    frames, heat, weight = data.make_sample([src], window, dict(PRESETS["demo"]), aug, FixedRng(normals))
    img = frames * np.array(data.STD)[None, :, None, None] + np.array(data.MEAN)[None, :, None, None]
    assert np.allclose(img[0], img[1]) and np.allclose(img[1], img[2])
    bright = np.unravel_index(np.argmax(img[1, 0]), img[1, 0].shape)  # (v, u) of joint 5's dot
    want = 6 if flip else 5  # after a flip the left shoulder's dot is the right shoulder's target
    peak = np.unravel_index(np.argmax(heat[want]), heat[want].shape)
    assert weight[want] == 1 and heat[want].max() == 1.0
    assert abs(peak[0] - bright[0] / 4) <= 1.0 and abs(peak[1] - bright[1] / 4) <= 1.0, (peak, bright)
    if flip and not rotation:
        assert bright[1] > 48  # joint 5 (left of the box centre) is on the right half after the flip


def test_half_body_box_covers_one_half():
    rng = np.random.default_rng(0)
    joints = np.zeros((17, 3))
    joints[:, 2] = 1
    joints[:, 0] = np.arange(17) * 3
    joints[:, 1] = np.arange(17) * 10  # lower body further down
    boxes = [data.half_body_box(rng, joints, 8) for _ in range(40)]
    tops = {round(b[1]) for b in boxes}
    assert tops == {0, 110}  # upper (joints 0-10) and lower (11-16) halves both drawn


def test_targets_zero_weight_for_unlabelled_and_off_map():
    uv = np.array([[10.0, 20.0]] * 17)
    uv[1] = (-40, 20)
    w = np.ones(17)
    w[2] = 0
    heat, weight = data.gaussian_targets(uv, w, 32, 24)
    assert weight[0] == 1 and weight[1] == 0 and weight[2] == 0
    assert heat[0].max() == 1.0 and heat[0][5, 3] == 1.0  # centre (int(10/4 + 0.5), int(20/4 + 0.5)) = (3, 5)
    assert heat[2].max() == 0


# ---------------------------------------------------------------------------------------
# PoseTrack layouts (tiny fake datasets written here)


def _person(rng, w, h):
    x0, y0 = rng.uniform(10, w - 60), rng.uniform(10, h - 90)
    kp = np.zeros((17, 3))
    kp[:, 0] = x0 + rng.uniform(0, 40, 17)
    kp[:, 1] = y0 + rng.uniform(0, 70, 17)
    kp[:, 2] = 1
    kp[3:5] = 0  # ears unlabelled, as PoseTrack
    return kp


def write_posetrack(root, year, rng, videos=2, frames=4, w=160, h=120):
    """The official layouts: images/<split>/<video>/*.jpg; annotations per video JSON under
    annotations/<split> (2017: `annolist`, MPII ids; 2018: COCO-style) or posetrack_data/<split>
    (2021). Frame 1 and 2 of each video are labelled. Returns {split: [(video, frame, kp18)]}."""
    truth = {}
    for split in ("train", "val"):
        truth[split] = []
        ann_dir = os.path.join(root, "posetrack_data" if year == 2021 else "annotations", split)
        os.makedirs(ann_dir, exist_ok=True)
        for v in range(videos):
            name = f"{v + 1:06d}_mpii_{split}"
            img_dir = os.path.join(root, "images", split, name)
            os.makedirs(img_dir, exist_ok=True)
            files = []
            for t in range(frames):
                fname = f"{t:06d}.jpg" if year != 2017 else f"{t + 1:08d}.jpg"
                data.write_jpeg(os.path.join(img_dir, fname), rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
                files.append(f"images/{split}/{name}/{fname}")
            labelled = {1: [_person(rng, w, h)], 2: [_person(rng, w, h), _person(rng, w, h)]}
            for t, people in labelled.items():
                for kp in people:
                    truth[split].append((name, t, kp))
            if year == 2017:
                annolist = []
                for t, f in enumerate(files):
                    rects = []
                    for kp in labelled.get(t, []):
                        points = [{"id": [i], "x": [float(kp[j, 0])], "y": [float(kp[j, 1])], "is_visible": [1]}
                                  for i, j in enumerate(data.POSETRACK17_TO_18)]
                        rects.append({"x1": [0], "y1": [0], "x2": [5], "y2": [5], "track_id": [0], "annopoints": [{"point": points}]})
                    annolist.append({"image": [{"name": f}], "annorect": rects, "imgnum": [t + 1], "is_labeled": [int(t in labelled)]})
                doc = {"annolist": annolist}
            else:
                images = [{"file_name": f, "id": 10000 * (v + 1) + t, "frame_id": 10000 * (v + 1) + t,
                           "is_labeled": t in labelled, "nframes": frames, "vid_id": f"{v + 1:06d}"} for t, f in enumerate(files)]
                anns = []
                for t, people in labelled.items():
                    for k, kp in enumerate(people):
                        lab = kp[kp[:, 2] > 0]
                        box = [lab[:, 0].min() - 5, lab[:, 1].min() - 5, np.ptp(lab[:, 0]) + 10, np.ptp(lab[:, 1]) + 10]
                        a = {"image_id": 10000 * (v + 1) + t, "track_id": k, "category_id": 1, "bbox": [float(b) for b in box],
                             "keypoints": [float(x) for x in kp.ravel()], "id": t * 100 + k}
                        if year == 2021:
                            a["person_id"] = 1000 + k
                            a["bbox_head"] = [0, 0, 5, 5]
                        anns.append(a)
                doc = {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "person"}]}
            json.dump(doc, open(os.path.join(ann_dir, name + ".json"), "w"))
    return truth


@pytest.mark.parametrize("year", [2017, 2018, 2021])
def test_posetrack_layouts_load(tmp_path, year):
    rng = np.random.default_rng(year)
    root = str(tmp_path / f"PoseTrack{year}")
    truth = write_posetrack(root, year, rng)
    cfg = dict(PRESETS["demo"])
    for split in ("train", "val"):
        src = data.PoseTrackSource(root, split)
        assert len(src.windows) == len(truth[split]) == 6
        assert len(src.folders) == 2 and all(src.nframes(v) == 4 for v in src.folders)
        for w, (video, t, kp) in zip(sorted(src.windows, key=lambda w: (w.video, w.frame)),
                                      sorted(truth[split], key=lambda x: (x[0], x[1]))):
            assert (w.video, w.frame) == (video, t)
        # joints (2017's MPII ids mapped to 2018's order) and the window's neighbour frames
        got = {(w.video, w.frame, round(w.joints[0, 0], 3)) for w in src.windows}
        want = {(v, t, round(kp[0, 0], 3)) for v, t, kp in truth[split]}
        assert got == want
        for w in src.windows:
            _, _, kp = next(x for x in truth[split] if x[0] == w.video and x[1] == w.frame and abs(x[2][0, 0] - w.joints[0, 0]) < 1e-6)
            assert np.allclose(w.joints[:, :2][kp[:, 2] > 0], kp[:, :2][kp[:, 2] > 0])
            assert np.array_equal(w.joints[:, 2] > 0, kp[:, 2] > 0)
        # an unaugmented sample: its key frame is the pipeline's crop of the JPEG
        w = src.windows[0]
        frames, heat, weight = data.make_sample([src], w, cfg, data.Augment.none(), np.random.default_rng(0))
        expect = np.rint(crop(src.frame(w.video, w.frame), w.box, 128, 96)).clip(0, 255)
        got_key = frames[1].transpose(1, 2, 0) * data.STD + data.MEAN
        assert np.abs(got_key * 255 - expect).max() < 1e-3
        assert weight[3] == 0 and weight[4] == 0 and weight[0] == 1


# ---------------------------------------------------------------------------------------
# ViTPose initialisation


@pytest.mark.parametrize("variant,preset", [("S", "s"), ("B", "b")])
def test_mmpose_vitpose_checkpoint_loads_every_backbone_tensor(tmp_path, variant, preset):
    sd = vitpose.mmpose_vitpose_state_dict(variant)
    path = str(tmp_path / f"vitpose-{variant}.pth")
    torch.save({"meta": {"mmpose_version": "0.24.0"}, "state_dict": sd}, path)
    model = FTPPose(PRESETS[preset])
    report = vitpose.load_backbone(model, vitpose.read_checkpoint(path), log=lambda m: None)
    own = model.backbone.state_dict()
    assert len(report["loaded"]) == len(own) and not report["mismatched"] and not report["missing"]
    assert all(n.startswith("keypoint_head.") for n in report["skipped"]) and len(report["skipped"]) == 14  # the deconvolution head
    for k, v in own.items():
        assert torch.equal(v, sd["backbone." + k]), k


def test_pos_embed_is_interpolated_for_another_grid(tmp_path):
    sd = vitpose.mmpose_vitpose_state_dict("S")
    cfg = dict(PRESETS["s"], input_size=[128, 96])  # grid 8x6 instead of 16x12
    model = FTPPose(cfg)
    report = vitpose.load_backbone(model, sd, log=lambda m: None)
    assert report["interpolated"] and not report["mismatched"] and not report["missing"]
    pos = model.backbone.state_dict()["pos_embed"]
    assert pos.shape == (1, 1 + 8 * 6, 384) and torch.equal(pos[:, 0], sd["backbone.pos_embed"][:, 0])


# ---------------------------------------------------------------------------------------
# Training runs


def test_loss_falls_on_a_small_synthetic_set(archive, tmp_path):
    out = str(tmp_path / "w.safetensors")
    run = train(["--data", f"synth:{archive}", "--config", "demo", "--out", out, "--batch", "4", "--steps-per-epoch", "10",
                 "--epochs", "6", "--lr", "1e-3", "--warmup-steps", "10", "--no-augment", "--negatives", "0", "--seed", "1"])
    assert run.returncode == 0, run.stderr[-3000:]
    hist = [json.loads(line) for line in open(out + ".work/history.jsonl")]
    assert len(hist) == 6
    assert hist[-1]["loss"] < 0.6 * hist[0]["loss"], hist
    _, meta = safetensors_io.load(out)
    assert meta["train.steps"] == "60" and meta["train.seed"] == "1" and json.loads(meta["train.data"]) == [f"synth:{archive}"]
    assert "train.git_commit" in meta and json.loads(meta["ftp_pose.config"]) == PRESETS["demo"]


def test_killed_and_resumed_run_equals_uninterrupted(archive, tmp_path):
    common = ["--data", f"synth:{archive}", "--config", "tiny", "--batch", "4", "--steps-per-epoch", "6", "--epochs", "3",
              "--checkpoint-every", "2", "--warmup-steps", "5", "--seed", "7"]
    a = str(tmp_path / "a.safetensors")
    assert train(common + ["--out", a]).returncode == 0
    b = str(tmp_path / "b.safetensors")
    proc = subprocess.Popen([sys.executable, TRAIN, "--threads", "1", *common, "--out", b],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = b + ".work/checkpoint.pt"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(ckpt) and torch.load(ckpt, weights_only=False)["step"] >= 4:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = torch.load(ckpt, weights_only=False)["step"]
    assert 4 <= killed_at < 18
    resumed = train(common + ["--out", b])
    assert resumed.returncode == 0 and f"resumed from {ckpt} at step {killed_at}" in resumed.stderr
    wa, _ = safetensors_io.load(a)
    wb, mb = safetensors_io.load(b)
    assert mb["train.steps"] == "18"
    for k in wa:
        assert np.array_equal(wa[k], wb[k]), k


def test_ddp_two_processes_equal_one_process_with_the_global_batch(archive, tmp_path):
    """torchrun with 2 CPU processes (gloo) x batch 2 sees the same windows and augmentation draws as
    one process x batch 4, so the weights agree up to the order of the gradient all-reduce. The
    attention key biases are left out: their true gradient is 0 (softmax ignores a shift shared by
    every key), so Adam turns pure rounding noise into steps of the learning rate's size."""
    common = ["--data", f"synth:{archive}", "--config", "tiny", "--steps-per-epoch", "3", "--epochs", "2",
              "--warmup-steps", "2", "--seed", "11"]
    one = str(tmp_path / "one.safetensors")
    assert train(common + ["--batch", "4", "--out", one]).returncode == 0
    two = str(tmp_path / "two.safetensors")
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", TRAIN,
                          "--threads", "1", *common, "--batch", "2", "--out", two], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "batch 2 x 2" in run.stderr
    wa, _ = safetensors_io.load(one)
    wb, _ = safetensors_io.load(two)
    assert wa.keys() == wb.keys()
    for k in wa:
        if k.endswith("k.bias"):
            continue
        scale = float(np.abs(wa[k]).max()) + 1e-12
        assert float(np.abs(wa[k] - wb[k]).max()) / scale < 1e-3, k


@needs_engine
def test_exported_weights_same_keypoints_in_pytorch_and_engine(archive, tmp_path):
    out = str(tmp_path / "w.safetensors")
    assert train(["--data", f"synth:{archive}", "--config", "demo", "--out", out, "--batch", "4", "--max-steps", "20"]).returncode == 0
    cfg = dict(PRESETS["demo"])
    src = data.SynthSource(archive, negatives=0)
    rng = np.random.default_rng(5)
    picks = rng.choice(len(src.windows), 16, replace=False)
    frames = np.stack([data.make_sample([src], src.windows[i], cfg, data.Augment.none(), np.random.default_rng(int(i)))[0]
                       for i in picks])
    x = str(tmp_path / "x.safetensors")
    safetensors_io.save(x, {"frames": frames})
    y = engine.infer(out, x, POSEWORKER, str(tmp_path / "y.safetensors"))
    got, _ = safetensors_io.load(y)
    import ftp_pose
    model = ftp_pose.load_model(out)
    with torch.no_grad():
        want = decode(model(torch.from_numpy(frames))["heatmaps"].numpy())
    assert got["keypoints"].shape == (16, 17, 3)
    assert np.array_equal(got["keypoints"][..., :2], want[..., :2])
    assert np.allclose(got["keypoints"][..., 2], want[..., 2], rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------------------------------
# Distillation metric


def test_pck_against_the_teacher(tmp_path):
    import distill

    def write(path, shift, drop=()):
        images = [{"id": t, "file_name": f"images/val/v/{t:06d}.jpg"} for t in range(10)]
        anns = []
        for t in range(10):
            if t in drop:
                continue
            kp = np.zeros((17, 3))
            kp[:, 0], kp[:, 1], kp[:, 2] = 100 + np.arange(17), 50 + 5 * np.arange(17), 0.9
            kp[3:5, 2] = 0.1  # low teacher score: not scored
            kp[:, 0] += shift
            anns.append({"image_id": t, "track_id": 1, "keypoints": kp.ravel().tolist(), "bbox": [90, 40, 40, 100]})
        json.dump({"images": images, "annotations": anns}, open(path, "w"))

    write(tmp_path / "t.json", 0)
    write(tmp_path / "near.json", 19.9)   # within 0.2 x box height 100
    write(tmp_path / "far.json", 20.1)
    write(tmp_path / "gap.json", 0, drop=(9,))  # misses one held-out person
    assert distill.pck(tmp_path / "t.json", tmp_path / "near.json")["pck"] == 100.0
    far = distill.pck(tmp_path / "t.json", tmp_path / "far.json")
    assert far["pck"] == 0.0 and far["people"] == 2 and far["joints"] == 2 * 15 and far["first_frame"] == 8
    assert distill.pck(tmp_path / "t.json", tmp_path / "gap.json")["pck"] == 50.0
