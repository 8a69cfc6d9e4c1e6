"""ViTPose initialisation: load the backbone of an mmpose ViTPose checkpoint into FTP-Pose.

mmpose's ViTPose (ViTAE-Transformer/ViTPose, mmpose 0.x `ViT` backbone + `TopdownHeatmapSimpleHead`)
saves `{"meta": ..., "state_dict": {...}}` with the backbone under `backbone.*` using exactly the
names of FTP-POSE.md section 8 (`patch_embed.proj`, `pos_embed [1, 1+Hp*Wp, C]`, `blocks.{i}.*`,
`last_norm`), and the heatmap head under `keypoint_head.*` (not used: FTP-Pose has its own head).

`load_backbone` copies every `backbone.*` tensor whose name and shape match, interpolates
`pos_embed` (bicubic over the patch grid, slot 0 kept) when the grid differs, and reports what it
loaded, what it skipped and every shape mismatch.
"""

import math

import torch
import torch.nn.functional as F

from configs import grid

VITPOSE = {  # embed_dim, depth, heads of the ViTPose variants (mlp_ratio 4, qkv_bias, 256x192, patch 16)
    "S": (384, 12, 12),
    "B": (768, 12, 12),
    "L": (1024, 24, 16),
    "H": (1280, 32, 16),
}


def mmpose_vitpose_state_dict(variant="S", generator=None, input_size=(256, 192), patch=16, joints=17):
    """A state dict with exactly the key names and shapes of an mmpose ViTPose-`variant` top-down
    checkpoint (backbone + classic deconvolution head), random values. Used by the tests and to
    show what `--init-backbone` expects."""
    c, depth, _ = VITPOSE[variant]
    g = generator or torch.Generator().manual_seed(0)

    def r(*shape):
        return torch.randn(*shape, generator=g) * 0.02

    hp, wp = (input_size[0] + 4 - patch) // patch + 1, (input_size[1] + 4 - patch) // patch + 1
    sd = {"backbone.pos_embed": r(1, 1 + hp * wp, c),
          "backbone.patch_embed.proj.weight": r(c, 3, patch, patch), "backbone.patch_embed.proj.bias": r(c)}
    for i in range(depth):
        p = f"backbone.blocks.{i}."
        sd.update({p + "norm1.weight": 1 + r(c), p + "norm1.bias": r(c),
                   p + "attn.qkv.weight": r(3 * c, c), p + "attn.qkv.bias": r(3 * c),
                   p + "attn.proj.weight": r(c, c), p + "attn.proj.bias": r(c),
                   p + "norm2.weight": 1 + r(c), p + "norm2.bias": r(c),
                   p + "mlp.fc1.weight": r(4 * c, c), p + "mlp.fc1.bias": r(4 * c),
                   p + "mlp.fc2.weight": r(c, 4 * c), p + "mlp.fc2.bias": r(c)})
    sd.update({"backbone.last_norm.weight": 1 + r(c), "backbone.last_norm.bias": r(c)})
    # TopdownHeatmapSimpleHead: 2 x (ConvTranspose2d 4x4 no bias, BN, ReLU), final 1x1 conv.
    for n, cin in ((0, c), (3, 256)):
        sd[f"keypoint_head.deconv_layers.{n}.weight"] = r(cin, 256, 4, 4)
        bn = f"keypoint_head.deconv_layers.{n + 1}."
        sd.update({bn + "weight": 1 + r(256), bn + "bias": r(256), bn + "running_mean": r(256),
                   bn + "running_var": 1 + r(256).abs(), bn + "num_batches_tracked": torch.tensor(1000)})
    sd.update({"keypoint_head.final_layer.weight": r(joints, 256, 1, 1), "keypoint_head.final_layer.bias": r(joints)})
    return sd


def resize_pos_embed(pos, hp, wp):
    """[1, 1 + h*w, C] -> [1, 1 + hp*wp, C]: slot 0 kept, the grid bicubic-interpolated (the old
    grid's aspect is taken from ViTPose's 4:3 when it is not a known square)."""
    n_old = pos.shape[1] - 1
    c = pos.shape[2]
    h = w = None
    for cand_h in range(1, n_old + 1):
        if n_old % cand_h == 0 and abs(cand_h / (n_old // cand_h) - 4 / 3) < 1e-6:
            h, w = cand_h, n_old // cand_h
    if h is None:
        h = w = int(math.isqrt(n_old))
        if h * w != n_old:
            raise ValueError(f"pos_embed with {n_old} grid slots is neither 4:3 nor square")
    grid = pos[:, 1:].reshape(1, h, w, c).permute(0, 3, 1, 2)
    grid = F.interpolate(grid.float(), size=(hp, wp), mode="bicubic", align_corners=False)
    return torch.cat([pos[:, :1], grid.permute(0, 2, 3, 1).reshape(1, hp * wp, c)], dim=1)


def read_checkpoint(path):
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    if isinstance(ckpt, dict) and "state_dict" in ckpt:
        ckpt = ckpt["state_dict"]
    elif isinstance(ckpt, dict) and "model" in ckpt and isinstance(ckpt["model"], dict):
        ckpt = ckpt["model"]
    if not isinstance(ckpt, dict):
        raise SystemExit(f"--init-backbone {path}: not a state dict (or a dict with `state_dict`)")
    return ckpt


def load_backbone(model, state, log=print):
    """Copies `backbone.*` of `state` into `model.backbone`. Returns a report dict:
    loaded, interpolated, skipped (names not in the model or not backbone), mismatched
    (name, checkpoint shape, model shape), missing (model backbone tensors not in the checkpoint)."""
    own = {f"backbone.{k}": v for k, v in model.backbone.state_dict().items()}
    report = {"loaded": [], "interpolated": [], "skipped": [], "mismatched": [], "missing": []}
    new = {}
    for name, value in state.items():
        key = name[len("module."):] if name.startswith("module.") else name
        if key not in own:
            report["skipped"].append(name)
            continue
        target = own[key]
        if key == "backbone.pos_embed" and value.shape != target.shape and value.dim() == 3 and value.shape[2] == target.shape[2]:
            g = grid(model.cfg)
            value = resize_pos_embed(value, g["hp"], g["wp"])
            report["interpolated"].append(f"{key} {tuple(state[name].shape)} -> {tuple(value.shape)}")
        if tuple(value.shape) != tuple(target.shape):
            report["mismatched"].append((key, tuple(value.shape), tuple(target.shape)))
            continue
        new[key[len("backbone."):]] = value.to(target.dtype)
        report["loaded"].append(key)
    report["missing"] = sorted(k for k in own if k not in set(report["loaded"]))
    model.backbone.load_state_dict(new, strict=False)
    log(f"init-backbone: loaded {len(report['loaded'])} of {len(own)} backbone tensors"
        + (f", interpolated {', '.join(report['interpolated'])}" if report["interpolated"] else ""))
    skipped_backbone = [n for n in report["skipped"] if n.startswith("backbone.")]
    log(f"init-backbone: skipped {len(report['skipped'])} tensors not in FTP-Pose's backbone "
        f"({len(report['skipped']) - len(skipped_backbone)} head/other"
        + (f"; backbone names unknown here: {', '.join(skipped_backbone[:8])}" if skipped_backbone else "") + ")")
    for key, got, want in report["mismatched"]:
        log(f"init-backbone: shape mismatch {key}: checkpoint {list(got)}, model {list(want)} (left as initialised)")
    if report["missing"]:
        log(f"init-backbone: {len(report['missing'])} backbone tensors not in the checkpoint: {', '.join(report['missing'][:8])}")
    return report
