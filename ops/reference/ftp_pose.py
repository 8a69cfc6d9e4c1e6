"""PyTorch reference of FTP-Pose, written to follow /work/shared/design/FTP-POSE.md (docs/FTP-POSE.md)
line by line. It is the oracle that the Swift engine is compared with, so it favours
clarity over speed: no fused kernels, explicit attention, DPC-kNN spelled out as in section 4.
`FTPPose(config).state_dict()` has exactly the weight names of section 8.

Also here: the crop of section 1 (`crop`) and the heatmap decoder of section 6 (`decode`).
"""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from configs import check_config, grid, option

LN_EPS = 1e-6


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))  # exact (erf) GELU


class Attention(nn.Module):
    """Self-attention with one qkv linear: rows [0,C) q, [C,2C) k, [2C,3C) v; head h = rows h*hd..(h+1)*hd."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        hd = c // self.heads
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q * hd ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    """Pre-norm transformer block: x += Attn(LN1(x)); x += MLP(LN2(x))."""

    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        self.mlp = Mlp(dim, dim * mlp_ratio)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch, padding=2)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # token = row * Wp + col


class Backbone(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        g = grid(cfg)
        c = cfg["embed_dim"]
        self.patch_embed = PatchEmbed(c, cfg["patch_size"])
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + g["hp"] * g["wp"], c))
        self.blocks = nn.ModuleList(Block(c, cfg["num_heads"], 4) for _ in range(cfg["depth"]))
        self.last_norm = nn.LayerNorm(c, eps=LN_EPS)

    def forward(self, x):
        x = self.patch_embed(x)
        # Slot 0 is a class-token slot never used as a token: broadcast onto every token.
        x = x + self.pos_embed[:, 1:] + self.pos_embed[:, :1]
        for blk in self.blocks:
            x = blk(x)
        return self.last_norm(x)


class MGFE(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        g = grid(cfg)
        c, d = cfg["embed_dim"], cfg["mgfe_dim"]
        self.proj = nn.Linear(c, d)
        self.hr_pos = nn.Parameter(torch.zeros(1, g["hh"] * g["wh"], d))
        self.lr_pos = nn.Parameter(torch.zeros(1, g["hp"] * g["wp"], d))
        self.time_embed = nn.Parameter(torch.zeros(1, cfg["frames"], d))
        heads, ratio = cfg["mgfe_heads"], cfg["mgfe_mlp_ratio"]
        self.st_blocks = nn.ModuleList(Block(d, heads, ratio) for _ in range(cfg["st_depth"]))
        self.shared_blocks = nn.ModuleList(Block(d, heads, ratio) for _ in range(cfg["shared_depth"]))
        if option(cfg, "token_recovery") == "attention":
            self.recover = TokenRecovery(d, heads)

    def run_shared(self, x):
        for blk in self.shared_blocks:
            x = blk(x)
        return x

    def run_st(self, x):
        for blk in self.st_blocks:
            x = blk(x)
        return x


class CrossAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, kv):
        b, n, c = x.shape
        m = kv.shape[1]
        hd = c // self.heads
        q = self.q(x).reshape(b, n, self.heads, hd).transpose(1, 2)
        k = self.k(kv).reshape(b, m, self.heads, hd).transpose(1, 2)
        v = self.v(kv).reshape(b, m, self.heads, hd).transpose(1, 2)
        attn = ((q * hd ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class TokenRecovery(nn.Module):
    """HoT's token recovering attention (ablation, `token_recovery: "attention"`): every fine token
    attends to the kept, refined ones, `h1 = h0 + CrossAttn(LN_q(h0), LN_kv(z_f))`, instead of
    writing z_f back at the kept rows. Same attention as the fusion's, no MLP."""

    def __init__(self, dim, heads):
        super().__init__()
        self.norm_q = nn.LayerNorm(dim, eps=LN_EPS)
        self.norm_kv = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn = CrossAttention(dim, heads)

    def forward(self, h0, z_f):
        return h0 + self.attn(self.norm_q(h0), self.norm_kv(z_f))


class Fuse(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["mgfe_dim"]
        self.norm_q = nn.LayerNorm(d, eps=LN_EPS)
        self.norm_kv = nn.LayerNorm(d, eps=LN_EPS)
        self.attn = CrossAttention(d, cfg["mgfe_heads"])
        self.norm_mlp = nn.LayerNorm(d, eps=LN_EPS)
        self.mlp = Mlp(d, d * cfg["fuse_mlp_ratio"])

    def forward(self, h1, z_c):
        u = h1 + self.attn(self.norm_q(h1), self.norm_kv(z_c))
        return u + self.mlp(self.norm_mlp(u))


class Head(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.norm = nn.LayerNorm(cfg["mgfe_dim"], eps=LN_EPS)
        self.fc = nn.Linear(cfg["mgfe_dim"], cfg["num_joints"])

    def forward(self, u):
        return self.fc(self.norm(u))


# ---------------------------------------------------------------------------------------
# DPC-kNN token selection (section 4)


def dpc_scores(x, knn_k, tau):
    """x: [N, D]. Returns (score [N], rho [N], delta [N], dist [N, N]) exactly as section 4.
    Works in x's dtype (float32 for the model; float64 for diagnostics)."""
    n, d = x.shape
    sq = (x * x).sum(dim=-1)
    gram = x @ x.transpose(0, 1)
    # The diagonal is not forced to 0: it is whatever the Gram formula gives (rounding-level),
    # it only enters rho through dist^2 where it is negligible.
    dist = (sq[:, None] + sq[None, :] - 2.0 * gram).clamp_min(0.0).sqrt() / math.sqrt(d)
    k = min(knn_k, n)
    knn = torch.topk(dist, k, dim=1, largest=False).values  # includes i itself
    rho = torch.exp(-(knn * knn).mean(dim=1) / tau)
    idx = torch.arange(n)
    denser = (rho[None, :] > rho[:, None]) | ((rho[None, :] == rho[:, None]) & (idx[None, :] < idx[:, None]))
    masked = torch.where(denser, dist, torch.full_like(dist, math.inf))
    delta = masked.min(dim=1).values
    has_denser = denser.any(dim=1)
    delta = torch.where(has_denser, delta, dist.max())
    return rho * delta, rho, delta, dist


def top_k_ascending(score, k):
    """Indices of the k highest scores (ties: lower index first), sorted ascending."""
    order = torch.sort(score, descending=True, stable=True).indices
    return torch.sort(order[:k]).values


def dpc_select(x, keep, knn_k, tau):
    score = dpc_scores(x, knn_k, tau)[0]
    return top_k_ascending(score, keep)


# ---------------------------------------------------------------------------------------


class FTPPose(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        check_config(cfg)
        self.cfg = dict(cfg)
        self.backbone = Backbone(cfg)
        self.mgfe = MGFE(cfg)
        self.fuse = Fuse(cfg)
        self.head = Head(cfg)

    def keep_counts(self, prune_hr=None, prune_lr=None):
        g = grid(self.cfg)
        prune_hr = self.cfg["prune_hr"] if prune_hr is None else prune_hr
        prune_lr = self.cfg["prune_lr"] if prune_lr is None else prune_lr
        n_hr = g["hh"] * g["wh"]
        n_lr = self.cfg["frames"] * g["hp"] * g["wp"]
        return n_hr // prune_hr, n_lr // prune_lr

    def forward(self, frames, prune_hr=None, prune_lr=None, trace=None):
        """frames: [B, T, 3, H_in, W_in] normalised. Returns dict with heatmaps [B, J, Hh, Wh],
        idx_hr [B, K_f], idx_lr [B, K_c] (int64, ascending). If `trace` is a list, the input of
        every DPC call is appended to it as a dict (branch, item, x, keep)."""
        cfg, g = self.cfg, grid(self.cfg)
        b, t = frames.shape[:2]
        h_in, w_in = cfg["input_size"]
        if tuple(frames.shape[1:]) != (cfg["frames"], 3, h_in, w_in):
            raise ValueError(f"frames shape {tuple(frames.shape)} != [B, {cfg['frames']}, 3, {h_in}, {w_in}]")
        hp, wp, hh, wh = g["hp"], g["wp"], g["hh"], g["wh"]
        d = cfg["mgfe_dim"]
        k_f, k_c = self.keep_counts(prune_hr, prune_lr)
        knn_k, tau = cfg["knn_k"], cfg["dpc_tau"]

        feats = self.backbone(frames.reshape(b * t, 3, h_in, w_in))  # [B*T, Hp*Wp, C]
        f = self.mgfe.proj(feats).reshape(b, t, hp * wp, d)

        # High-resolution branch: key frame, upsampled to heatmap resolution.
        f_key = f[:, t // 2].transpose(1, 2).reshape(b, d, hp, wp)
        up = F.interpolate(f_key, size=(hh, wh), mode="bilinear", align_corners=False)
        h0 = up.flatten(2).transpose(1, 2) + self.mgfe.hr_pos  # [B, Hh*Wh, D]
        if option(cfg, "hr_branch"):
            idx_hr = []
            for i in range(b):
                if trace is not None:
                    trace.append({"branch": "hr", "item": i, "x": h0[i].detach().clone(), "keep": k_f})
                idx_hr.append(dpc_select(h0[i], k_f, knn_k, tau))
            idx_hr = torch.stack(idx_hr)
            sel = torch.gather(h0, 1, idx_hr[:, :, None].expand(b, k_f, d))
            z_f = self.mgfe.run_shared(sel)
            if option(cfg, "token_recovery") == "attention":
                h1 = self.mgfe.recover(h0, z_f)
            else:
                h1 = h0.clone()
                h1.scatter_(1, idx_hr[:, :, None].expand(b, k_f, d), z_f)
        else:  # ablation: the fine tokens are not refined (no DPC, no shared blocks)
            idx_hr = torch.zeros((b, 0), dtype=torch.int64)
            h1 = h0

        # Low-resolution branch: all frames, joint space-time attention.
        c0 = (f + self.mgfe.lr_pos[:, None] + self.mgfe.time_embed[0][None, :, None, :]).reshape(b, t * hp * wp, d)
        c1 = self.mgfe.run_st(c0)
        idx_lr = []
        for i in range(b):
            if trace is not None:
                trace.append({"branch": "lr", "item": i, "x": c1[i].detach().clone(), "keep": k_c})
            idx_lr.append(dpc_select(c1[i], k_c, knn_k, tau))
        idx_lr = torch.stack(idx_lr)
        z_c = self.mgfe.run_shared(torch.gather(c1, 1, idx_lr[:, :, None].expand(b, k_c, d)))

        u = self.fuse(h1, z_c)
        heat = self.head(u).transpose(1, 2).reshape(b, cfg["num_joints"], hh, wh)
        return {"heatmaps": heat, "idx_hr": idx_hr, "idx_lr": idx_lr}


# ---------------------------------------------------------------------------------------
# Heatmap decoding (section 6) and crop (section 1)


def decode(heatmaps):
    """heatmaps: numpy [J, Hh, Wh] (or [B, J, Hh, Wh]). Returns [.., J, 3] float32 of
    (x, y, score) in heatmap pixels: first argmax in row-major order, quarter offset toward
    the larger neighbour when 1 < px < Wh-1 and 1 < py < Hh-1, score = max (0 when max <= 0)."""
    heatmaps = np.asarray(heatmaps)
    if heatmaps.ndim == 4:
        return np.stack([decode(h) for h in heatmaps])
    j, hh, wh = heatmaps.shape
    out = np.zeros((j, 3), dtype=np.float32)
    for n in range(j):
        hm = heatmaps[n]
        flat = int(np.argmax(hm))  # first maximum
        py, px = divmod(flat, wh)
        peak = hm[py, px]
        x, y = float(px), float(py)
        if 1 < px < wh - 1 and 1 < py < hh - 1:
            x += 0.25 * float(np.sign(hm[py, px + 1] - hm[py, px - 1]))
            y += 0.25 * float(np.sign(hm[py + 1, px] - hm[py - 1, px]))
        out[n] = (x, y, peak if peak > 0 else 0.0)
    return out


def crop_geometry(box_xywh, out_h, out_w):
    """Centre and enlarged size s of section 1 (aspect grown to out_w/out_h, times 1.25)."""
    x, y, w, h = (float(v) for v in box_xywh)
    cx, cy = x + w / 2, y + h / 2
    a = out_w / out_h
    if w > a * h:
        h = w / a
    else:
        w = a * h
    return cx, cy, 1.25 * w, 1.25 * h


def crop(image, box_xywh, out_h, out_w):
    """image: uint8 [H, W, 3]. Returns float64 [out_h, out_w, 3] (0..255, not rounded):
    bilinear at xs = cx + (u - W/2) * sw / W for integer u (same for v), each of the four
    neighbours reading 0 outside the image."""
    img = np.asarray(image, dtype=np.float64)
    ih, iw = img.shape[:2]
    cx, cy, sw, sh = crop_geometry(box_xywh, out_h, out_w)
    u = np.arange(out_w, dtype=np.float64)
    v = np.arange(out_h, dtype=np.float64)
    xs = cx + (u - out_w / 2) * sw / out_w
    ys = cy + (v - out_h / 2) * sh / out_h
    xs, ys = np.meshgrid(xs, ys)  # [out_h, out_w]
    x0 = np.floor(xs)
    y0 = np.floor(ys)
    fx = xs - x0
    fy = ys - y0
    x0 = x0.astype(np.int64)
    y0 = y0.astype(np.int64)

    def read(yy, xx):
        inside = (xx >= 0) & (xx < iw) & (yy >= 0) & (yy < ih)
        vals = img[np.clip(yy, 0, ih - 1), np.clip(xx, 0, iw - 1)]
        return np.where(inside[..., None], vals, 0.0)

    fx = fx[..., None]
    fy = fy[..., None]
    return ((1 - fx) * (1 - fy) * read(y0, x0) + fx * (1 - fy) * read(y0, x0 + 1)
            + (1 - fx) * fy * read(y0 + 1, x0) + fx * fy * read(y0 + 1, x0 + 1))


MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


def normalise(crop_hw3):
    """float [H, W, 3] in 0..255 -> float32 [3, H, W] normalised (section 1)."""
    return ((np.asarray(crop_hw3) / 255.0 - MEAN) / STD).transpose(2, 0, 1).astype(np.float32)


def load_model(weights_path):
    """Model from a weight file written by make_fixtures / train_demo (config from metadata)."""
    import json

    import safetensors_io

    tensors, meta = safetensors_io.load(weights_path)
    cfg = json.loads(meta["ftp_pose.config"])
    model = FTPPose(cfg)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
    return model.eval()
