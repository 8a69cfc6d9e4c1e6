"""FTP-Pose config presets (FTP-POSE.md section 7) with the exact key set and order the
Swift engine reads from the safetensors metadata key `ftp_pose.config`."""

import json

CONFIG_KEYS = (
    "input_size", "patch_size", "embed_dim", "depth", "num_heads", "mgfe_dim", "mgfe_heads",
    "mgfe_mlp_ratio", "fuse_mlp_ratio", "st_depth", "shared_depth", "frames", "prune_hr",
    "prune_lr", "knn_k", "dpc_tau", "num_joints",
)
# Optional keys (ablations), written after the others and only when they differ from the default,
# so every file of the paper's model keeps the exact string above.
OPTIONAL_KEYS = {
    "hr_branch": True,              # False: no fine-token refinement (h1 = h0; FTP-POSE.md section 3)
    "token_recovery": "scatter",    # "attention": HoT's token recovering attention instead of scatter-restore
}
TOKEN_RECOVERY = ("scatter", "attention")


def _preset(input_size, patch, embed, depth, heads, mgfe_dim, mgfe_heads, st_depth, shared_depth):
    return {
        "input_size": list(input_size), "patch_size": patch, "embed_dim": embed, "depth": depth,
        "num_heads": heads, "mgfe_dim": mgfe_dim, "mgfe_heads": mgfe_heads, "mgfe_mlp_ratio": 4,
        "fuse_mlp_ratio": 2, "st_depth": st_depth, "shared_depth": shared_depth, "frames": 3,
        "prune_hr": 6, "prune_lr": 6, "knn_k": 5, "dpc_tau": 1.0, "num_joints": 17,
    }


PRESETS = {
    "b": _preset((256, 192), 16, 768, 12, 12, 384, 8, 2, 4),
    "s": _preset((256, 192), 16, 384, 12, 12, 192, 6, 2, 4),
    "demo": _preset((128, 96), 8, 96, 4, 3, 64, 4, 1, 2),
    # Not a model anyone runs: the smallest config that still exercises every code path
    # (several heads, pruning in both branches, border rules of the decoder).
    "tiny": _preset((32, 24), 8, 16, 2, 2, 16, 2, 1, 1),
}


def config_json(config):
    """The metadata string: compact JSON, keys in CONFIG_KEYS order."""
    check_config(config)
    out = {k: config[k] for k in CONFIG_KEYS}
    out.update({k: config[k] for k, default in OPTIONAL_KEYS.items() if k in config and config[k] != default})
    return json.dumps(out, separators=(",", ":"))


def option(config, key):
    """An optional key's value (its default when absent)."""
    return config.get(key, OPTIONAL_KEYS[key])


def check_config(config):
    missing = [k for k in CONFIG_KEYS if k not in config]
    extra = [k for k in config if k not in CONFIG_KEYS and k not in OPTIONAL_KEYS]
    if missing or extra:
        raise ValueError(f"ftp_pose config: missing keys {missing}, unknown keys {extra}")
    if not isinstance(option(config, "hr_branch"), bool):
        raise ValueError(f"hr_branch must be true or false, got {config['hr_branch']!r}")
    if option(config, "token_recovery") not in TOKEN_RECOVERY:
        raise ValueError(f"token_recovery must be one of {TOKEN_RECOVERY}, got {config['token_recovery']!r}")
    if not option(config, "hr_branch") and option(config, "token_recovery") != "scatter":
        raise ValueError("token_recovery applies to the high-resolution branch: it needs hr_branch true")
    h_in, w_in = config["input_size"]
    if h_in % 4 or w_in % 4:
        raise ValueError(f"input_size {config['input_size']} must be divisible by 4")
    if config["frames"] % 2 != 1:
        raise ValueError(f"frames must be odd, got {config['frames']}")
    if config["patch_size"] % 4:
        raise ValueError(f"patch_size must be divisible by 4, got {config['patch_size']}")
    for dim, heads in (("embed_dim", "num_heads"), ("mgfe_dim", "mgfe_heads")):
        if config[dim] % config[heads]:
            raise ValueError(f"{dim} {config[dim]} not divisible by {heads} {config[heads]}")
    g = grid(config)
    if (g["hp"] * g["upsample"], g["wp"] * g["upsample"]) != (g["hh"], g["wh"]):
        raise ValueError(f"patch grid {g['hp']}x{g['wp']} x {g['upsample']} != heatmap {g['hh']}x{g['wh']}")


def grid(config):
    """Derived sizes: patch grid (conv kernel P, stride P, padding 2), heatmap, upsample factor."""
    h_in, w_in = config["input_size"]
    p = config["patch_size"]
    hp = (h_in + 4 - p) // p + 1
    wp = (w_in + 4 - p) // p + 1
    return {"hp": hp, "wp": wp, "hh": h_in // 4, "wh": w_in // 4, "upsample": p // 4}
