"""Trains the `demo` FTP-Pose config on the synthetic archive of `posecoord synth`, so the README
demo (`posecoord run` + `posecoord eval` on the `--seed 0` archive) shows a model that has
learnt something instead of random weights. See docs/TRAINING.md for the numbers and the
exact commands.

  .build/release/posecoord synth --out /tmp/train-archive --videos 80 --frames 40 --seed 100
  nice -n 19 python3 ops/reference/train_synth.py --archive /tmp/train-archive \
      --out configs/models/demo-synth.safetensors --max-minutes 35

Windows are built as the pipeline builds them (FTP-POSE.md section 1, ARCHIVE.md): one per
ground-truth person per frame, the box being the GT `bbox` with the synthetic detector's
jitter (each edge moved by N(0, 0.04 x size), then clipped to the frame), key frame t and
frames t-1, t+1 clamped to the video, all cropped with the key frame's geometry by the
reference crop (computed once per window, applied to the T frames; checked against
`ftp_pose.crop` at start-up) and rounded to uint8 as the engine's crops are. Random boxes that
overlap no person (as the synthetic detector's false positives) are added with all-zero
targets, so the model learns low scores on background.

Targets: the classic Gaussian heatmaps of FTP-POSE.md section 6 (sigma 2 at Hh x Wh, centred at
int(x/4 + 0.5) of the joint's crop position, 13x13 window, peak 1); target weight = GT
visibility (ears are never labelled, weight 0), and 0 when the centre falls off the heatmap.
Loss: weighted MSE. Horizontal flip augmentation flips all T frames and swaps the left/right
joint pairs. The model runs with pruning on (prune 6,6) as at inference. Matmuls run under
bfloat16 autocast (about 2x faster on this CPU) except the DPC token selection, which is
kept in float32 so the selected tokens are the ones inference selects.

The learning rate follows a linear warm-up then a cosine decay over `--steps`, or, when
`--steps` is 0, over the `--max-minutes` wall-time budget (the schedule is a function of the
elapsed share of the budget, so it ends at the cap whatever the machine's load).
Checkpoints (the final weight-file format) are written every `--save-minutes`.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "train"))

import ftp_pose  # noqa: E402
import safetensors_io  # noqa: E402
from configs import PRESETS, config_json, grid  # noqa: E402
from ftp_pose import FTPPose, crop, crop_geometry, decode  # noqa: E402
from data import iou, jittered_box, read_video  # noqa: E402  (ops/train: the same functions)

FLIP_PAIRS = ((3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
SIGMA = 2.0


# ---------------------------------------------------------------------------------------
# Reading the archive


def read_truth(path, nframes):
    """Per frame: list of (bbox xywh, keypoints [17, 3]) from a PoseTrack GT file."""
    doc = json.load(open(path))
    index = {img["id"]: n for n, img in enumerate(doc["images"])}
    people = [[] for _ in range(nframes)]
    for a in doc["annotations"]:
        t = index[a["image_id"]]
        if t < nframes and a.get("bbox"):
            people[t].append((np.array(a["bbox"], dtype=np.float64),
                              np.array(a["keypoints"], dtype=np.float64).reshape(-1, 3)))
    return people


# ---------------------------------------------------------------------------------------
# Crops: the reference crop's formula, tables computed once per window for its T frames


class CropTables:
    def __init__(self, box, img_h, img_w, out_h, out_w):
        cx, cy, sw, sh = crop_geometry(box, out_h, out_w)
        xs = cx + (np.arange(out_w, dtype=np.float64) - out_w / 2) * sw / out_w
        ys = cy + (np.arange(out_h, dtype=np.float64) - out_h / 2) * sh / out_h
        x0, y0 = np.floor(xs), np.floor(ys)
        fx, fy = xs - x0, ys - y0
        x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
        # Separable: weight of a neighbour outside the image is 0 (reads 0), index clipped.
        self.xi = [np.clip(x0, 0, img_w - 1), np.clip(x0 + 1, 0, img_w - 1)]
        self.yi = [np.clip(y0, 0, img_h - 1), np.clip(y0 + 1, 0, img_h - 1)]
        self.wx = [(1 - fx) * ((x0 >= 0) & (x0 < img_w)), fx * ((x0 + 1 >= 0) & (x0 + 1 < img_w))]
        self.wy = [(1 - fy) * ((y0 >= 0) & (y0 < img_h)), fy * ((y0 + 1 >= 0) & (y0 + 1 < img_h))]
        self.geometry = (cx, cy, sw, sh)

    def apply(self, image):
        """float64 [out_h, out_w, 3], 0..255, same arithmetic as ftp_pose.crop."""
        img = image.astype(np.float64)
        out = 0.0
        for a in range(2):
            rows = img[self.yi[a]]
            for b in range(2):
                w = (self.wy[a][:, None] * self.wx[b][None, :])[..., None]
                out = out + w * rows[:, self.xi[b]]
        return out


def check_crop_tables(rng, image, out_h, out_w):
    """The fast crop must be the reference crop (FTP-POSE.md section 1) to 1e-9."""
    ih, iw = image.shape[:2]
    boxes = [(10.5, 20.25, 80, 150), (-30, -20, 90, 120), (iw - 40, ih - 60, 100, 90), (3.3, 4.7, 2.5, 3.1)]
    boxes += [tuple(rng.uniform([-50, -50, 5, 5], [iw, ih, 200, 250])) for _ in range(8)]
    worst = 0.0
    for box in boxes:
        worst = max(worst, float(np.abs(CropTables(box, ih, iw, out_h, out_w).apply(image) - crop(image, box, out_h, out_w)).max()))
    if worst > 1e-9:
        raise SystemExit(f"fast crop differs from ftp_pose.crop by {worst} (> 1e-9)")
    return worst


def build_windows(archive, cfg, rng, negatives, log):
    """Returns crops uint8 [N, T, H, W, 3], joints float32 [N, J, 3] (u, v in crop pixels,
    visibility), boxes float64 [N, 4]."""
    h_in, w_in = cfg["input_size"]
    t_frames = cfg["frames"]
    names = sorted(f[:-4] for f in os.listdir(archive) if f.endswith(".mp4"))
    if not names:
        raise SystemExit(f"no .mp4 videos in {archive} (make them with `posecoord synth --format mp4`)")
    crops, joints, boxes = [], [], []
    checked = False
    start = time.time()
    for vi, name in enumerate(names):
        video = read_video(os.path.join(archive, name + ".mp4"))
        nframes, ih, iw = video.shape[:3]
        if not checked:
            log(f"fast crop vs ftp_pose.crop: max |diff| {check_crop_tables(rng, video[0], h_in, w_in):.1e}")
            checked = True
        truth = read_truth(os.path.join(archive, "annotations", name + ".json"), nframes)
        for t in range(nframes):
            frames = [video[min(max(t + k - t_frames // 2, 0), nframes - 1)] for k in range(t_frames)]
            items = []
            for box, kp in truth[t]:
                jb = jittered_box(rng, box, iw, ih)
                if jb is not None:
                    items.append((jb, kp))
            if negatives > 0 and rng.uniform() < negatives:
                w, h = rng.uniform(0.05, 0.25) * iw, rng.uniform(0.1, 0.5) * ih
                nb = np.array([rng.uniform(0, iw - w), rng.uniform(0, ih - h), w, h])
                if all(iou(nb, b) < 0.3 for b, _ in truth[t]):
                    items.append((nb, None))
            for jb, kp in items:
                tables = CropTables(jb, ih, iw, h_in, w_in)
                crops.append(np.stack([np.rint(tables.apply(f)).clip(0, 255).astype(np.uint8) for f in frames]))
                cx, cy, sw, sh = tables.geometry
                j = np.zeros((cfg["num_joints"], 3), dtype=np.float32)
                if kp is not None:
                    j[:, 0] = (kp[:, 0] - cx) * w_in / sw + w_in / 2
                    j[:, 1] = (kp[:, 1] - cy) * h_in / sh + h_in / 2
                    j[:, 2] = kp[:, 2] > 0
                else:
                    j[:, 2] = -1  # negative window: all-zero targets, weight 1 (ears 0)
                joints.append(j)
                boxes.append(jb)
        log(f"  {vi + 1}/{len(names)} videos, {len(crops)} windows, {time.time() - start:.0f} s")
    return np.stack(crops), np.stack(joints), np.stack(boxes)


# ---------------------------------------------------------------------------------------
# Targets and batches


def targets_for(joints, cfg):
    """joints [B, J, 3] (u, v crop px, vis; vis -1 = negative window) -> heatmaps [B, J, Hh, Wh],
    weights [B, J]: classic Gaussian (section 6), 13x13 window, weight 0 off the heatmap."""
    g = grid(cfg)
    hh, wh = g["hh"], g["wh"]
    b, j = joints.shape[:2]
    mx = (joints[..., 0] / 4 + 0.5).astype(np.int64)  # int() truncates toward 0, as the classic code
    my = (joints[..., 1] / 4 + 0.5).astype(np.int64)
    hy = np.arange(hh)[None, None, :, None]
    hx = np.arange(wh)[None, None, None, :]
    dx = hx - mx[..., None, None]
    dy = hy - my[..., None, None]
    heat = np.exp(-(dx * dx + dy * dy) / (2 * SIGMA ** 2))
    heat[(np.abs(dx) > 3 * SIGMA) | (np.abs(dy) > 3 * SIGMA)] = 0
    vis = joints[..., 2]
    # Classic rule: the 13x13 window must touch the map, else weight 0.
    on_map = (mx - 3 * SIGMA < wh) & (my - 3 * SIGMA < hh) & (mx + 3 * SIGMA + 1 > 0) & (my + 3 * SIGMA + 1 > 0)
    weight = ((vis > 0) & on_map).astype(np.float32)
    negative = vis < 0
    heat[negative] = 0
    weight[negative] = 1
    weight[:, 3:5] = 0  # ears: never labelled in PoseTrack
    return heat.astype(np.float32), weight


def make_batch(crops, joints, idx, cfg, rng, flip):
    x = crops[idx].astype(np.float32)  # [B, T, H, W, 3]
    j = joints[idx].copy()
    if flip:
        w_in = cfg["input_size"][1]
        do = rng.uniform(size=len(idx)) < 0.5
        x[do] = x[do][:, :, :, ::-1]
        j[do, :, 0] = w_in - 1 - j[do, :, 0]
        for a, b in FLIP_PAIRS:
            j[do, a], j[do, b] = j[do, b].copy(), j[do, a].copy()
    x = ((x / 255.0 - MEAN) / STD).transpose(0, 1, 4, 2, 3)
    heat, weight = targets_for(j, cfg)
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(heat), torch.from_numpy(weight)


def weighted_mse(pred, target, weight):
    return (((pred - target) ** 2) * weight[:, :, None, None]).mean()


def accuracy(model, crops, joints, cfg):
    """Share of labelled joints of held-out positive windows decoded within 1 heatmap pixel
    of the target's centre (float32 forward, pruning on, as inference)."""
    model.eval()
    pos = np.where(joints[:, 0, 2] >= 0)[0]
    hits = total = 0
    for s in range(0, len(pos), 32):
        idx = pos[s:s + 32]
        x, heat, weight = make_batch(crops, joints, idx, cfg, None, flip=False)
        with torch.no_grad():
            got = decode(model(x)["heatmaps"].numpy())[..., :2]
        want = np.stack([(joints[idx, :, 0] / 4 + 0.5).astype(np.int64), (joints[idx, :, 1] / 4 + 0.5).astype(np.int64)], -1)
        ok = np.abs(got - want).max(-1) <= 1.0
        w = weight.numpy() > 0
        hits += int((ok & w).sum())
        total += int(w.sum())
    return hits / max(total, 1)


# ---------------------------------------------------------------------------------------


def save_weights(model, cfg, path, meta):
    tensors = {k: v.detach().float().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    tmp = path + ".tmp"
    safetensors_io.save(tmp, tensors, {"ftp_pose.config": config_json(cfg), **meta})
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archive", required=True, help="a `posecoord synth` archive (mp4) to train on")
    ap.add_argument("--val-archive", help="optional held-out synth archive for the accuracy log")
    ap.add_argument("--out", required=True, help="weight file (written at every checkpoint and at the end)")
    ap.add_argument("--config", default="demo", choices=sorted(PRESETS))
    ap.add_argument("--steps", type=int, default=0, help="0: as many as fit in --max-minutes")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=100, help="warm-up steps")
    ap.add_argument("--max-minutes", type=float, default=35.0, help="training wall-time cap (data prep excluded)")
    ap.add_argument("--save-minutes", type=float, default=3.0)
    ap.add_argument("--negatives", type=float, default=0.2, help="chance per frame of a background window")
    ap.add_argument("--no-flip", action="store_true")
    ap.add_argument("--no-bf16", action="store_true", help="train in float32 (about 2x slower)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", help="start from this weight file (same config) instead of random weights")
    ap.add_argument("--cache", help="npz of the prepared windows (made if missing, reused if present)")
    args = ap.parse_args()

    def log(msg):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    cfg = PRESETS[args.config]

    if args.cache and os.path.exists(args.cache):
        data = np.load(args.cache)
        crops, joints = data["crops"], data["joints"]
        log(f"windows from {args.cache}")
    else:
        crops, joints, boxes = build_windows(args.archive, cfg, rng, args.negatives, log)
        if args.cache:
            np.savez(args.cache, crops=crops, joints=joints, boxes=boxes)
    n_neg = int((joints[:, 0, 2] < 0).sum())
    log(f"{len(crops)} windows ({n_neg} background), {crops.nbytes / 2**20:.0f} MiB of uint8 crops")
    val = None
    if args.val_archive:
        vc, vj, _ = build_windows(args.val_archive, cfg, np.random.default_rng(12345), 0.0, lambda m: None)
        val = (vc, vj)
        log(f"{len(vc)} held-out windows from {args.val_archive}")

    # DPC selection in float32 even under bf16 autocast: the tokens kept must be those inference keeps.
    select32 = ftp_pose.dpc_select

    def dpc_select_fp32(x, keep, knn_k, tau):
        with torch.autocast("cpu", enabled=False):
            return select32(x.detach().float(), keep, knn_k, tau)

    ftp_pose.dpc_select = dpc_select_fp32

    model = FTPPose(cfg)
    for name, p in model.named_parameters():  # as train_demo.py
        if name.endswith(("pos_embed", "hr_pos", "lr_pos", "time_embed")) or p.dim() >= 2:
            torch.nn.init.trunc_normal_(p, std=0.02)
        elif name.endswith("bias"):
            torch.nn.init.zeros_(p)
    if args.init:
        tensors, meta = safetensors_io.load(args.init)
        if json.loads(meta["ftp_pose.config"]) != cfg:
            raise SystemExit(f"--init {args.init}: its config is not the {args.config} preset")
        model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
        log(f"weights from {args.init}")
    log(f"{args.config}: {sum(p.numel() for p in model.parameters())} parameters, prune "
        f"{cfg['prune_hr']},{cfg['prune_lr']}, batch {args.batch}, lr {args.lr}, bf16 {not args.no_bf16}")
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    budget = args.max_minutes * 60

    def lr_at(step, elapsed):
        if step <= args.warmup:
            return args.lr * step / args.warmup
        progress = (step / args.steps) if args.steps else (elapsed / budget)
        return args.lr * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

    order = rng.permutation(len(crops))
    cursor = 0
    start = time.time()
    last_save = start
    losses = []
    step = 0
    while True:
        elapsed = time.time() - start
        if (args.steps and step >= args.steps) or elapsed >= budget:
            break
        step += 1
        if cursor + args.batch > len(order):
            order, cursor = rng.permutation(len(crops)), 0
        idx = np.sort(order[cursor:cursor + args.batch])
        cursor += args.batch
        x, heat, weight = make_batch(crops, joints, idx, cfg, rng, flip=not args.no_flip)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, elapsed)
        model.train()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=not args.no_bf16):
            pred = model(x)["heatmaps"]
        loss = weighted_mse(pred.float(), heat, weight)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if step % 50 == 0:
            msg = f"step {step}: loss {np.mean(losses[-50:]):.6f}, lr {lr_at(step, elapsed):.2e}, {elapsed:.0f} s"
            if val is not None and step % 200 == 0:
                msg += f", held-out within 1 px {accuracy(model, val[0], val[1], cfg):.3f}"
            log(msg)
        if time.time() - last_save > args.save_minutes * 60:
            save_weights(model, cfg, args.out, {"train_synth.steps": str(step)})
            last_save = time.time()
            log(f"checkpoint {args.out} at step {step}")
    minutes = (time.time() - start) / 60
    save_weights(model, cfg, args.out, {"train_synth.steps": str(step)})
    log(f"done: {step} steps ({step * args.batch} windows seen) in {minutes:.1f} min, wrote {args.out}")
    if val is not None:
        log(f"held-out within 1 heatmap px: {accuracy(model, val[0], val[1], cfg):.3f}")


if __name__ == "__main__":
    main()
