"""Writes the golden fixtures the Swift tests compare with (FTP-POSE.md section 9):

  Tests/FTPPoseTests/Fixtures/tiny.weights.safetensors      seeded random weights, tiny config
  Tests/FTPPoseTests/Fixtures/tiny.io.safetensors           frames -> heatmaps, idx_hr, idx_lr, keypoints (prune 6,6)
  Tests/FTPPoseTests/Fixtures/tiny.unpruned.io.safetensors  same weights and frames, prune 1,1
  Tests/FTPPoseTests/Fixtures/demo.weights.safetensors      seeded random weights, demo config
  Tests/FTPPoseTests/Fixtures/demo.io.safetensors           B=1, prune 6,6
  Tests/FTPPoseTests/Fixtures/tiny-tra.{weights,io}.safetensors   tiny with token_recovery "attention" (section 10)
  Tests/FTPPoseTests/Fixtures/tiny-nohr.{weights,io}.safetensors  tiny with hr_branch false (section 10)
  Tests/PoseMediaTests/Fixtures/crop.safetensors            image, boxes -> float crops (section 1)

Top-K selection and argmax are discontinuous, so a seed is accepted only when every DPC call
and every heatmap peak is far from its decision boundary (see `dpc_margin`, `heatmap_margin`);
otherwise the next seed is tried. Run: python3 ops/reference/make_fixtures.py [--only tiny|demo|ablation|crop]
"""

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import safetensors_io  # noqa: E402
from configs import PRESETS, config_json  # noqa: E402
from ftp_pose import FTPPose, crop, decode, dpc_scores, top_k_ascending  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
POSE_FIXTURES = os.path.join(ROOT, "Tests", "FTPPoseTests", "Fixtures")
MEDIA_FIXTURES = os.path.join(ROOT, "Tests", "PoseMediaTests", "Fixtures")

# Acceptance margins (relative). The DPC gap rule is the one of section 9; the others
# guard the remaining discontinuities (argmax, sign of the quarter offset, score <= 0 rule,
# the "denser" order inside DPC) so that exact index/keypoint equality is a fair test.
DPC_GAP_MIN = 1e-4
PEAK_GAP_MIN = 1e-4
PERTURB_REL = 1e-5
PERTURB_TRIALS = 6


def trunc_normal(rng, shape, std):
    x = rng.standard_normal(shape)
    bad = np.abs(x) > 2
    while bad.any():
        x[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(x) > 2
    return x * std


def random_weights(model, seed, embed_std, proj_std):
    """trunc-normal(0.02) matrices/convs, trunc-normal(embed_std) MGFE/ViT embeddings, small
    random biases everywhere (so a dropped bias shows), LayerNorm weight 1 + noise, bias noise.
    mgfe.proj gets std proj_std/sqrt(C) so the MGFE tokens have about unit scale: with all-0.02
    weights every DPC density is ~0.999 and a wrong density formula could go unnoticed."""
    rng = np.random.default_rng(seed)
    state = {}
    for name, p in model.state_dict().items():
        shape = tuple(p.shape)
        leaf = name.rsplit(".", 1)[-1]
        is_norm = "norm" in name.rsplit(".", 2)[-2] if "." in name else False
        if name.endswith(("pos_embed", "hr_pos", "lr_pos", "time_embed")):
            v = trunc_normal(rng, shape, embed_std)
        elif is_norm and leaf == "weight":
            v = 1.0 + 0.1 * rng.standard_normal(shape)
        elif is_norm and leaf == "bias":
            v = 0.05 * rng.standard_normal(shape)
        elif name == "mgfe.proj.weight":
            v = trunc_normal(rng, shape, proj_std / np.sqrt(shape[1]))
        elif leaf == "weight":
            v = trunc_normal(rng, shape, 0.02)
        elif leaf == "bias":
            v = 0.02 * rng.standard_normal(shape)
        else:
            raise AssertionError(f"unexpected parameter {name}")
        if name == "head.fc.bias":
            v[-1] -= 2.0  # one joint whose heatmap is all negative: exercises "score 0 when max <= 0"
        state[name] = torch.from_numpy(v.astype(np.float32))
    model.load_state_dict(state, strict=True)
    return model


def smooth_noise(rng, h, w, cells):
    """Low-frequency random field in 0..1 (bilinear upsample of a coarse grid)."""
    coarse = torch.from_numpy(rng.random((1, 1, cells, cells)))
    return torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)[0, 0].numpy()


def random_frames(rng, batch, cfg):
    """Normalised-looking frames: textured RGB images in 0..1, neighbours are the key frame
    shifted by a pixel or two plus noise (like video), then the section 1 normalisation."""
    t = cfg["frames"]
    h, w = cfg["input_size"]
    out = np.zeros((batch, t, 3, h, w), dtype=np.float32)
    mean = np.array([0.485, 0.456, 0.406])[:, None, None]
    std = np.array([0.229, 0.224, 0.225])[:, None, None]
    for b in range(batch):
        key = np.stack([0.6 * smooth_noise(rng, h, w, 4) + 0.3 * smooth_noise(rng, h, w, 12)
                        + 0.1 * rng.random((h, w)) for _ in range(3)])
        for k in range(t):
            dy, dx = rng.integers(-2, 3, size=2) if k != t // 2 else (0, 0)
            img = np.roll(key, (int(dy), int(dx)), axis=(1, 2)) + 0.02 * rng.standard_normal((3, h, w))
            out[b, k] = ((np.clip(img, 0, 1) - mean) / std).astype(np.float32)
    return out


def dpc_margin(x, keep, knn_k, tau, seed):
    """Checks one DPC call. Returns (ok, info). Accepts when (1) the relative gap between the
    keep-th and (keep+1)-th sorted float32 scores is >= DPC_GAP_MIN (section 9), (2) the same
    scores recomputed in float64 select the same tokens and differ from float32 by less than a
    tenth of that gap, (3) relative 1e-5 noise on the input does not change the selection."""
    if keep >= x.shape[0]:
        return True, {"gap": None}
    s32 = dpc_scores(x, knn_k, tau)[0]
    sel = top_k_ascending(s32, keep)
    ordered = torch.sort(s32, descending=True, stable=True).values.double()
    gap_abs = float(ordered[keep - 1] - ordered[keep])
    gap = gap_abs / abs(float(ordered[keep - 1]))
    s64 = dpc_scores(x.double(), knn_k, tau)[0]
    sel64 = top_k_ascending(s64, keep)
    noise = float((s64 - s32.double()).abs().max())
    info = {"gap": gap, "f32_vs_f64": noise / abs(float(ordered[keep - 1]))}
    if gap < DPC_GAP_MIN or not torch.equal(sel, sel64) or noise > gap_abs / 10:
        return False, info
    g = torch.Generator().manual_seed(seed)
    rms = float(x.pow(2).mean().sqrt())
    for _ in range(PERTURB_TRIALS):
        noisy = x + PERTURB_REL * rms * torch.randn(x.shape, generator=g)
        if not torch.equal(top_k_ascending(dpc_scores(noisy, knn_k, tau)[0], keep), sel):
            info["perturbed"] = True
            return False, info
    return True, info


def heatmap_margin(heat):
    """heat: numpy [B, J, Hh, Wh]. The first max must beat the second by PEAK_GAP_MIN relative,
    its sign must be clear (score <= 0 rule), and where the quarter offset applies the
    neighbour differences must be clear too. Returns (ok, worst relative margin)."""
    scale = float(np.abs(heat).max())
    worst = np.inf
    _, _, hh, wh = heat.shape
    for hm in heat.reshape(-1, hh, wh):
        flat = np.sort(hm.ravel())[::-1]
        m1 = float(flat[0])
        margins = [(m1 - float(flat[1])) / abs(m1), abs(m1) / scale * 0.1]
        py, px = divmod(int(np.argmax(hm)), wh)
        if 1 < px < wh - 1 and 1 < py < hh - 1:
            margins.append(abs(float(hm[py, px + 1] - hm[py, px - 1])) / abs(m1))
            margins.append(abs(float(hm[py + 1, px] - hm[py - 1, px])) / abs(m1))
        worst = min(worst, min(margins))
    return worst >= PEAK_GAP_MIN, worst


def try_seed(cfg, seed, batch, prunes, embed_std, proj_std):
    torch.manual_seed(seed)
    model = random_weights(FTPPose(cfg), seed, embed_std, proj_std).eval()
    rng = np.random.default_rng(10_000 + seed)
    frames = random_frames(rng, batch, cfg)
    results, report = {}, []
    with torch.no_grad():
        for prune in prunes:
            trace = []
            out = model(torch.from_numpy(frames), prune[0], prune[1], trace=trace)
            for call in trace:
                ok, info = dpc_margin(call["x"], call["keep"], cfg["knn_k"], cfg["dpc_tau"], seed)
                report.append((prune, call["branch"], call["item"], info))
                if not ok:
                    return None, report
            heat = out["heatmaps"].numpy()
            ok, worst = heatmap_margin(heat)
            report.append((prune, "heatmap", None, {"worst": worst}))
            if not ok:
                return None, report
            results[prune] = out
    return (model, frames, results), report


def find_seed(name, cfg, batch, prunes, start, embed_std, proj_std, tries=200):
    for seed in range(start, start + tries):
        found, report = try_seed(cfg, seed, batch, prunes, embed_std, proj_std)
        if found:
            print(f"{name}: seed {seed} accepted")
            for prune, branch, item, info in report:
                print(f"  prune {prune} {branch} item {item}: {info}")
            return seed, found
        print(f"{name}: seed {seed} rejected: {report[-1]}")
    raise SystemExit(f"{name}: no acceptable seed in {start}..{start + tries - 1}")


def write_weights(path, model, cfg):
    tensors = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    safetensors_io.save(path, tensors, {"ftp_pose.config": config_json(cfg)})


def write_io(path, frames, out, prune, seed):
    heat = out["heatmaps"].numpy().astype(np.float32)
    safetensors_io.save(path, {
        "frames": frames.astype(np.float32),
        "heatmaps": heat,
        "idx_hr": out["idx_hr"].numpy().astype(np.int32),
        "idx_lr": out["idx_lr"].numpy().astype(np.int32),
        "keypoints": decode(heat).astype(np.float32),
    }, {"prune": f"{prune[0]},{prune[1]}", "seed": str(seed)})


# The ablation variants of section 10 (optional config keys on the tiny preset).
VARIANTS = {"tiny-tra": dict(PRESETS["tiny"], token_recovery="attention"),
            "tiny-nohr": dict(PRESETS["tiny"], hr_branch=False)}


def make_model_fixtures(name, batch, prunes, start, embed_std, proj_std):
    cfg = VARIANTS.get(name) or PRESETS[name]
    seed, (model, frames, results) = find_seed(name, cfg, batch, prunes, start, embed_std, proj_std)
    os.makedirs(POSE_FIXTURES, exist_ok=True)
    write_weights(os.path.join(POSE_FIXTURES, f"{name}.weights.safetensors"), model, cfg)
    for prune in prunes:
        suffix = "io" if prune != (1, 1) else "unpruned.io"
        write_io(os.path.join(POSE_FIXTURES, f"{name}.{suffix}.safetensors"), frames, results[prune], prune, seed)
    return seed


def make_crop_fixture(seed=7):
    rng = np.random.default_rng(seed)
    h, w = 60, 80
    # Textured image: gradients + blobs + noise, so every bilinear tap matters.
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 3.0, yy * 4.0, (xx + yy) * 1.7], axis=-1)
    img += 80 * np.stack([smooth_noise(rng, h, w, 6) for _ in range(3)], axis=-1)
    img += 40 * rng.random((h, w, 3))
    image = np.clip(img, 0, 255).astype(np.uint8)
    boxes = np.array([
        [20.0, 15.0, 30.0, 35.0],     # inside
        [-12.5, 10.0, 25.0, 30.0],    # partly outside left
        [30.0, -8.25, 20.0, 28.0],    # partly outside top
        [62.0, 20.0, 30.0, 26.0],     # partly outside right
        [10.0, 45.5, 22.0, 30.0],     # partly outside bottom
        [35.3, 5.7, 9.0, 50.0],       # tall
        [4.0, 25.0, 70.0, 12.0],      # wide
        [40.2, 30.6, 2.5, 3.1],       # tiny (upsampling)
    ])
    out_h, out_w = 64, 48
    crops = np.stack([crop(image, b, out_h, out_w) for b in boxes]).astype(np.float32)
    os.makedirs(MEDIA_FIXTURES, exist_ok=True)
    safetensors_io.save(os.path.join(MEDIA_FIXTURES, "crop.safetensors"),
                        {"image": image, "boxes": boxes.astype(np.float64), "crops": crops},
                        {"input_size": f"{out_h},{out_w}", "seed": str(seed)})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["tiny", "demo", "ablation", "crop"], action="append")
    ap.add_argument("--embed-std", type=float, default=0.3)
    ap.add_argument("--proj-std", type=float, default=1.0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    only = set(args.only or ["tiny", "demo", "ablation", "crop"])
    if "tiny" in only:
        make_model_fixtures("tiny", 2, [(6, 6), (1, 1)], 1, args.embed_std, args.proj_std)
    if "ablation" in only:
        for name in VARIANTS:
            make_model_fixtures(name, 2, [(6, 6)], 1, args.embed_std, args.proj_std)
    if "demo" in only:
        make_model_fixtures("demo", 1, [(6, 6)], 1, args.embed_std, args.proj_std)
    if "crop" in only:
        make_crop_fixture()
        print("crop: written")


if __name__ == "__main__":
    main()
