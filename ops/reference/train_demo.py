"""Trains the `demo` FTP-Pose config for a few hundred steps on synthetic windows, to show the
reference trains end to end (DPC selection included) and to produce a weight file with
non-random behaviour for the engine (`poseworker infer --weights OUT ...`).

  python3 ops/reference/train_demo.py --steps 300 --out /tmp/demo-trained.safetensors

Synthetic data: on a smooth random background, 17 coloured discs (one colour per joint) at
random positions that drift by a pixel or two across the T frames. Targets are the classic
Gaussian heatmaps of FTP-POSE.md section 6 (sigma 2, centred at int(x/4 + 0.5), 13x13 window,
peak 1) of the key frame; loss MSE. Reports train loss and, on held-out windows, the share of
joints decoded within 1 heatmap pixel.
"""

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import safetensors_io  # noqa: E402
from configs import PRESETS, config_json, grid  # noqa: E402
from ftp_pose import FTPPose, decode  # noqa: E402

MEAN = np.array([0.485, 0.456, 0.406])[:, None, None]
STD = np.array([0.229, 0.224, 0.225])[:, None, None]


def joint_colours(j):
    rng = np.random.default_rng(1234)
    return rng.random((j, 3)) * 0.8 + 0.2


def make_batch(rng, batch, cfg, colours):
    t = cfg["frames"]
    h, w = cfg["input_size"]
    g = grid(cfg)
    hh, wh = g["hh"], g["wh"]
    j = cfg["num_joints"]
    frames = np.zeros((batch, t, 3, h, w), dtype=np.float32)
    targets = np.zeros((batch, j, hh, wh), dtype=np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    hy, hx = np.mgrid[0:hh, 0:wh]
    for b in range(batch):
        bg = rng.random((3, 1, 1)) * 0.5 + 0.1 * rng.random((3, h, w))
        pts = np.stack([rng.uniform(4, w - 5, j), rng.uniform(4, h - 5, j)], axis=1)
        for k in range(t):
            moved = pts + (k - t // 2) * rng.normal(0, 1.0, pts.shape)
            img = bg.copy()
            for n, (x, y) in enumerate(moved):
                disc = (xx - x) ** 2 + (yy - y) ** 2 <= 9.0
                img[:, disc] = colours[n][:, None]
            frames[b, k] = ((img - MEAN) / STD).astype(np.float32)
        for n, (x, y) in enumerate(pts):
            mx, my = int(x / 4 + 0.5), int(y / 4 + 0.5)
            g2 = np.exp(-((hx - mx) ** 2 + (hy - my) ** 2) / (2 * 2.0 ** 2))
            g2[(np.abs(hx - mx) > 6) | (np.abs(hy - my) > 6)] = 0
            targets[b, n] = g2
    return torch.from_numpy(frames), torch.from_numpy(targets)


def accuracy(model, frames, targets):
    with torch.no_grad():
        heat = model(frames)["heatmaps"].numpy()
    got = decode(heat)[..., :2]
    want = decode(targets.numpy())[..., :2]
    return float((np.abs(got - want).max(-1) <= 1.0).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1, help="1 is much faster than 2 on a loaded 2-core machine")
    ap.add_argument("--max-minutes", type=float, default=15.0, help="stop early after this long")
    ap.add_argument("--out", default="/tmp/demo-trained.safetensors")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = PRESETS["demo"]
    model = FTPPose(cfg)
    for name, p in model.named_parameters():
        if name.endswith(("pos_embed", "hr_pos", "lr_pos", "time_embed")) or (p.dim() >= 2):
            torch.nn.init.trunc_normal_(p, std=0.02)
        elif name.endswith("bias"):
            torch.nn.init.zeros_(p)
    rng = np.random.default_rng(args.seed)
    colours = joint_colours(cfg["num_joints"])
    val_frames, val_targets = make_batch(np.random.default_rng(999), 16, cfg, colours)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.1)
    model.eval()
    print(f"step 0: held-out accuracy (within 1 heatmap px) {accuracy(model, val_frames, val_targets):.3f}")
    start = time.time()
    step = 0
    for step in range(1, args.steps + 1):
        model.train()
        frames, targets = make_batch(rng, args.batch, cfg, colours)
        loss = torch.nn.functional.mse_loss(model(frames)["heatmaps"], targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 25 == 0 or step == args.steps:
            model.eval()
            print(f"step {step}: loss {loss.item():.5f}, held-out accuracy {accuracy(model, val_frames, val_targets):.3f}, "
                  f"{time.time() - start:.0f} s", flush=True)
        if time.time() - start > args.max_minutes * 60:
            print(f"stopping after {step} steps: --max-minutes {args.max_minutes} reached")
            break
    model.eval()
    tensors = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    safetensors_io.save(args.out, tensors, {"ftp_pose.config": config_json(cfg), "train_demo.steps": str(step)})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
