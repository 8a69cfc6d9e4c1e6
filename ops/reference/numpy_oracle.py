"""A second, independent FTP-Pose forward pass in plain numpy float64, written straight from
FTP-POSE.md with loops instead of tensor tricks (im2col patch embedding, per-head attention,
bilinear upsampling from its formula, DPC-kNN with explicit loops). It is slow and only used
by test_reference.py to check the PyTorch reference itself against coding slips."""

import math

import numpy as np
from scipy.special import erf


def layer_norm(x, w, b, eps=1e-6):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def linear(x, s, name):
    return x @ s[name + ".weight"].T + s[name + ".bias"]


def attention(q_in, kv_in, wq, bq, wk, bk, wv, bv, wo, bo, heads):
    n, c = q_in.shape
    hd = c // heads
    q = q_in @ wq.T + bq
    k = kv_in @ wk.T + bk
    v = kv_in @ wv.T + bv
    out = np.zeros((n, c))
    for h in range(heads):
        sl = slice(h * hd, (h + 1) * hd)
        logits = q[:, sl] @ k[:, sl].T / math.sqrt(hd)
        logits -= logits.max(-1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(-1, keepdims=True)
        out[:, sl] = p @ v[:, sl]
    return out @ wo.T + bo


def block(x, s, pre, heads):
    c = x.shape[1]
    y = layer_norm(x, s[pre + ".norm1.weight"], s[pre + ".norm1.bias"])
    w, b = s[pre + ".attn.qkv.weight"], s[pre + ".attn.qkv.bias"]
    x = x + attention(y, y, w[:c], b[:c], w[c:2 * c], b[c:2 * c], w[2 * c:], b[2 * c:],
                      s[pre + ".attn.proj.weight"], s[pre + ".attn.proj.bias"], heads)
    y = layer_norm(x, s[pre + ".norm2.weight"], s[pre + ".norm2.bias"])
    return x + linear(gelu(linear(y, s, pre + ".mlp.fc1")), s, pre + ".mlp.fc2")


def patch_embed(img, w, b, p):
    """img [3, H, W]; conv kernel p stride p padding 2 -> tokens [Hp*Wp, C], row-major."""
    _, h, wd = img.shape
    padded = np.zeros((3, h + 4, wd + 4))
    padded[:, 2:h + 2, 2:wd + 2] = img
    hp = (h + 4 - p) // p + 1
    wp = (wd + 4 - p) // p + 1
    tokens = []
    for r in range(hp):
        for c in range(wp):
            patch = padded[:, r * p:r * p + p, c * p:c * p + p]
            tokens.append(np.tensordot(w, patch, axes=([1, 2, 3], [0, 1, 2])) + b)
    return np.array(tokens), hp, wp


def upsample(grid_dhw, out_h, out_w):
    """Bilinear, align_corners=False: src = (dst + 0.5) * in/out - 0.5, clamped below at 0."""
    d, h, w = grid_dhw.shape
    out = np.zeros((d, out_h, out_w))
    for oy in range(out_h):
        sy = max((oy + 0.5) * h / out_h - 0.5, 0.0)
        y0 = min(int(math.floor(sy)), h - 1)
        y1 = min(y0 + 1, h - 1)
        ly = sy - y0
        for ox in range(out_w):
            sx = max((ox + 0.5) * w / out_w - 0.5, 0.0)
            x0 = min(int(math.floor(sx)), w - 1)
            x1 = min(x0 + 1, w - 1)
            lx = sx - x0
            out[:, oy, ox] = ((1 - ly) * ((1 - lx) * grid_dhw[:, y0, x0] + lx * grid_dhw[:, y0, x1])
                              + ly * ((1 - lx) * grid_dhw[:, y1, x0] + lx * grid_dhw[:, y1, x1]))
    return out


def dpc(x, keep, knn_k, tau):
    n, d = x.shape
    dist = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            dist[i, j] = math.sqrt(max(x[i] @ x[i] + x[j] @ x[j] - 2 * (x[i] @ x[j]), 0.0)) / math.sqrt(d)
    rho = np.zeros(n)
    for i in range(n):
        nearest = sorted(dist[i])[:knn_k]
        rho[i] = math.exp(-sum(v * v for v in nearest) / len(nearest) / tau)
    delta = np.zeros(n)
    for i in range(n):
        denser = [j for j in range(n) if rho[j] > rho[i] or (rho[j] == rho[i] and j < i)]
        delta[i] = min(dist[i, j] for j in denser) if denser else dist.max()
    score = rho * delta
    order = sorted(range(n), key=lambda i: (-score[i], i))
    return sorted(order[:keep]), score


def forward(s, cfg, frames, prune_hr, prune_lr):
    """One window: frames [T, 3, H, W] -> heatmaps [J, Hh, Wh], idx_hr, idx_lr."""
    s = {k: np.asarray(v, dtype=np.float64) for k, v in s.items()}
    t = frames.shape[0]
    p = cfg["patch_size"]
    heads, mheads = cfg["num_heads"], cfg["mgfe_heads"]
    feats = []
    for k in range(t):
        x, hp, wp = patch_embed(frames[k].astype(np.float64), s["backbone.patch_embed.proj.weight"],
                                s["backbone.patch_embed.proj.bias"], p)
        pos = s["backbone.pos_embed"][0]
        x = x + pos[1:] + pos[0]
        for i in range(cfg["depth"]):
            x = block(x, s, f"backbone.blocks.{i}", heads)
        x = layer_norm(x, s["backbone.last_norm.weight"], s["backbone.last_norm.bias"])
        feats.append(linear(x, s, "mgfe.proj"))
    d = feats[0].shape[1]
    hh, wh = cfg["input_size"][0] // 4, cfg["input_size"][1] // 4

    def shared(z):
        for i in range(cfg["shared_depth"]):
            z = block(z, s, f"mgfe.shared_blocks.{i}", mheads)
        return z

    key = feats[t // 2]
    grid = np.zeros((d, hp, wp))
    for r in range(hp):
        for c in range(wp):
            grid[:, r, c] = key[r * wp + c]
    up = upsample(grid, hh, wh)
    h0 = np.array([up[:, r, c] for r in range(hh) for c in range(wh)]) + s["mgfe.hr_pos"][0]
    idx_hr, _ = dpc(h0, (hh * wh) // prune_hr, cfg["knn_k"], cfg["dpc_tau"])
    h1 = h0.copy()
    h1[idx_hr] = shared(h0[idx_hr])

    c0 = np.concatenate([feats[k] + s["mgfe.lr_pos"][0] + s["mgfe.time_embed"][0, k] for k in range(t)])
    for i in range(cfg["st_depth"]):
        c0 = block(c0, s, f"mgfe.st_blocks.{i}", mheads)
    idx_lr, _ = dpc(c0, len(c0) // prune_lr, cfg["knn_k"], cfg["dpc_tau"])
    z_c = shared(c0[idx_lr])

    q = layer_norm(h1, s["fuse.norm_q.weight"], s["fuse.norm_q.bias"])
    kv = layer_norm(z_c, s["fuse.norm_kv.weight"], s["fuse.norm_kv.bias"])
    a = "fuse.attn."
    u = h1 + attention(q, kv, s[a + "q.weight"], s[a + "q.bias"], s[a + "k.weight"], s[a + "k.bias"],
                       s[a + "v.weight"], s[a + "v.bias"], s[a + "proj.weight"], s[a + "proj.bias"], mheads)
    y = layer_norm(u, s["fuse.norm_mlp.weight"], s["fuse.norm_mlp.bias"])
    u = u + linear(gelu(linear(y, s, "fuse.mlp.fc1")), s, "fuse.mlp.fc2")
    heat = linear(layer_norm(u, s["head.norm.weight"], s["head.norm.bias"]), s, "head.fc")
    return heat.T.reshape(-1, hh, wh), np.array(idx_hr), np.array(idx_lr)
