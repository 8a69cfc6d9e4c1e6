"""Self-checks of the Python reference: DPC-kNN, decoder and crop on hand-made cases, the
PyTorch model against the independent numpy oracle, and the committed fixtures against a
fresh run. Run: python3 -m pytest ops/reference/test_reference.py  (or python3 ops/reference/test_reference.py).
Skips with a message when torch is absent (CI has no torch)."""

import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import torch
except ImportError:  # CI has no torch
    torch = None
    print("SKIP ops/reference/test_reference.py: torch is not installed")
    if "pytest" in sys.modules:
        import pytest

        pytest.skip("torch is not installed", allow_module_level=True)
    else:
        sys.exit(0)

import numpy_oracle  # noqa: E402
import safetensors_io  # noqa: E402
from configs import PRESETS, config_json, grid  # noqa: E402
from ftp_pose import FTPPose, crop, crop_geometry, decode, dpc_scores, dpc_select, load_model  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(ROOT, "Tests", "FTPPoseTests", "Fixtures")
MEDIA = os.path.join(ROOT, "Tests", "PoseMediaTests", "Fixtures")


# ---- DPC-kNN ------------------------------------------------------------------------


def test_dpc_two_clusters_picks_both_centres():
    # A tight cluster of 5 around (0,0), a looser one of 4 around (6,0), and a far outlier.
    pts = [(0, 0), (0.1, 0), (-0.1, 0), (0, 0.1), (0, -0.1),
           (6, 0), (6.4, 0), (5.6, 0), (6, 0.4),
           (0, 20)]
    x = torch.tensor(pts, dtype=torch.float64)
    score, rho, delta, dist = dpc_scores(x, 3, 1.0)
    # The centre of the tight cluster is the densest token: its delta is the largest distance.
    assert int(torch.argmax(rho)) == 0
    assert math.isclose(float(delta[0]), float(dist.max()))
    assert math.isclose(float(dist.max()), math.hypot(6.4, 20) / math.sqrt(2), rel_tol=1e-9)
    # Centre of the second cluster: its nearest denser token is in the first cluster.
    assert int(torch.argmax(rho[5:9])) + 5 == 5
    assert math.isclose(float(delta[5]), 5.9 / math.sqrt(2), rel_tol=1e-9)  # nearest: (0.1, 0)
    # The outlier has a large delta but ~0 density: score = rho * delta ranks it last.
    assert float(delta[9]) > 14 and float(rho[9]) < 1e-50
    order = torch.sort(score, descending=True, stable=True).indices.tolist()
    assert order[:2] == [0, 5] and order[-1] == 9
    assert dpc_select(x, 2, 3, 1.0).tolist() == [0, 5]
    assert dpc_select(x, 1, 3, 1.0).tolist() == [0]


def test_dpc_knn_includes_self():
    # Two points: with k=1 the only neighbour is the point itself, so rho = 1 for both.
    x = torch.tensor([[0.0, 0.0], [2.0, 0.0]], dtype=torch.float64)
    _, rho, _, _ = dpc_scores(x, 1, 1.0)
    assert torch.equal(rho, torch.ones(2, dtype=torch.float64))
    # With k=2 the mean is over self (0) and the other (dist 2/sqrt2): rho = exp(-(0 + 2)/2 / tau).
    _, rho, _, _ = dpc_scores(x, 2, 0.5)
    assert torch.allclose(rho, torch.full((2,), math.exp(-1.0 / 0.5), dtype=torch.float64))


def test_dpc_tie_rules():
    # Duplicated points: all densities equal, so "denser" falls back to lower index.
    x = torch.tensor([[0.0, 0.0], [0.0, 0.0], [3.0, 0.0], [3.0, 0.0]])
    score, rho, delta, dist = dpc_scores(x, 2, 1.0)
    assert torch.equal(rho, torch.ones(4))
    far = 3.0 / math.sqrt(2)
    assert torch.allclose(delta, torch.tensor([far, 0.0, far, 0.0]))  # 0 densest: max of matrix
    assert dpc_select(x, 1, 2, 1.0).tolist() == [0]          # score tie 0 vs 2: lower index
    assert dpc_select(x, 2, 2, 1.0).tolist() == [0, 2]
    assert dpc_select(x, 3, 2, 1.0).tolist() == [0, 1, 2]    # score tie 1 vs 3: lower index


def test_dpc_matches_loop_oracle_on_random_tokens():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(40, 8, generator=g, dtype=torch.float64) + 0.5
    for keep in (1, 7, 20, 40):
        want, want_score = numpy_oracle.dpc(x.numpy(), keep, 5, 1.0)
        assert dpc_select(x, keep, 5, 1.0).tolist() == want
    assert np.allclose(dpc_scores(x, 5, 1.0)[0].numpy(), want_score, rtol=1e-12, atol=1e-12)


# ---- decode ---------------------------------------------------------------------------


def test_decode_quarter_offset_and_border_rule():
    hh, wh = 8, 6
    hm = np.full((5, hh, wh), -0.5, dtype=np.float32)
    # 0: interior peak (px=3, py=4); right neighbour > left, upper > lower -> (3.25, 3.75).
    hm[0, 4, 3] = 1.0; hm[0, 4, 4] = 0.6; hm[0, 4, 2] = 0.4; hm[0, 3, 3] = 0.7; hm[0, 5, 3] = 0.2
    # 1: px = 1 is not inside (1 < px fails): no offset in x, nor in y (both conditions needed).
    hm[1, 3, 1] = 2.0; hm[1, 3, 2] = 1.0; hm[1, 2, 1] = 1.5
    # 2: py = Hh-1 (bottom row): no offset.
    hm[2, 7, 3] = 0.9; hm[2, 7, 4] = 0.5
    # 3: two equal maxima: the first in row-major order wins; equal neighbours -> no shift.
    hm[3, 2, 4] = 0.8; hm[3, 5, 2] = 0.8
    # 4: everything <= 0: score 0, coordinates still from the argmax (first max, interior).
    hm[4] = -1.0; hm[4, 3, 2] = -0.25; hm[4, 3, 3] = -0.3; hm[4, 3, 1] = -0.9
    kp = decode(hm)
    assert kp[0].tolist() == [3.25, 3.75, 1.0]
    assert kp[1].tolist() == [1.0, 3.0, 2.0]
    assert kp[2].tolist() == [3.0, 7.0, np.float32(0.9)]
    assert kp[3].tolist() == [4.0, 2.0, np.float32(0.8)]
    assert kp[4].tolist() == [2.25, 3.0, 0.0]


# ---- crop -----------------------------------------------------------------------------


def test_crop_geometry_grows_to_aspect():
    assert crop_geometry((10, 20, 30, 80), 64, 48) == (25.0, 60.0, 1.25 * 60, 1.25 * 80)   # tall: w = 0.75 h
    assert crop_geometry((0, 0, 90, 40), 64, 48) == (45.0, 20.0, 1.25 * 90, 1.25 * 120)   # wide: h = w / 0.75


def test_crop_by_hand():
    # Image whose red channel is x + 10 y: bilinear is exact for it inside the image.
    yy, xx = np.mgrid[0:10, 0:12]
    img = np.stack([xx + 10 * yy, np.full_like(xx, 200), yy], axis=-1).astype(np.uint8)
    out = crop(img, (2, 2, 3, 4), 8, 6)  # aspect already 0.75: s = (3.75, 5), c = (3.5, 4)
    # (u, v) = (0, 0): xs = 3.5 - 3 * 3.75 / 6 = 1.625, ys = 4 - 4 * 5 / 8 = 1.5.
    assert math.isclose(out[0, 0, 0], 1.625 + 10 * 1.5)
    # (u, v) = (5, 7): xs = 3.5 + 2 * 0.625 = 4.75, ys = 4 + 3 * 0.625 = 5.875.
    assert math.isclose(out[7, 5, 0], 4.75 + 10 * 5.875)
    assert math.isclose(out[7, 5, 2], 5.875)
    # Outside: box centred at the top-left corner. (u, v) = (3, 4) maps to (0, 0) exactly.
    out = crop(img, (-1, -1, 2, 2), 8, 6)  # w = 2 > 0.75 * 2: h = 8/3; s = (2.5, 10/3)
    assert math.isclose(out[4, 3, 1], 200.0)
    # (u, v) = (2, 4): xs = -2.5/6 = -0.41666: x0 = -1 reads 0, weight of x = 0 is 1 - 0.58333.
    fx = -2.5 / 6 + 1
    assert math.isclose(out[4, 2, 1], fx * 200.0)
    # Far outside: all black.
    assert crop(img, (100, 100, 5, 5), 8, 6).max() == 0.0


# ---- model ----------------------------------------------------------------------------


def test_unpruned_selects_everything_and_differs_from_pruned():
    torch.manual_seed(0)
    cfg = PRESETS["tiny"]
    model = FTPPose(cfg).eval()
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.3)
    frames = torch.randn(2, 3, 3, 32, 24)
    g = grid(cfg)
    with torch.no_grad():
        full = model(frames, 1, 1)
        pruned = model(frames, 6, 6)
    n_hr, n_lr = g["hh"] * g["wh"], cfg["frames"] * g["hp"] * g["wp"]
    assert torch.equal(full["idx_hr"], torch.arange(n_hr).expand(2, n_hr))
    assert torch.equal(full["idx_lr"], torch.arange(n_lr).expand(2, n_lr))
    assert pruned["idx_hr"].shape == (2, n_hr // 6) and pruned["idx_lr"].shape == (2, n_lr // 6)
    assert not torch.allclose(full["heatmaps"], pruned["heatmaps"])


def test_state_dict_names_are_the_contract():
    names = set(FTPPose(PRESETS["tiny"]).state_dict())
    for want in ("backbone.patch_embed.proj.weight", "backbone.pos_embed", "backbone.blocks.1.attn.qkv.bias",
                 "backbone.last_norm.weight", "mgfe.proj.weight", "mgfe.hr_pos", "mgfe.lr_pos", "mgfe.time_embed",
                 "mgfe.st_blocks.0.mlp.fc2.weight", "mgfe.shared_blocks.0.norm1.bias", "fuse.norm_q.weight",
                 "fuse.norm_kv.bias", "fuse.norm_mlp.weight", "fuse.attn.q.weight", "fuse.attn.proj.bias",
                 "fuse.mlp.fc1.weight", "head.norm.weight", "head.fc.bias"):
        assert want in names, want
    # backbone: patch 2, pos 1, 12 per block, last_norm 2; mgfe: proj 2, 3 embeddings, 12 per
    # block; fuse: 3 norms, 4 linears, 2 mlp linears; head: norm + fc.
    assert len(names) == (2 + 1 + 12 * 2 + 2) + (2 + 3 + 12 * 2) + (6 + 8 + 4) + 4


def test_presets_match_engine_config_files():
    # configs/models/*.json is the engine's copy of the presets (engine branch); skip if absent.
    folder = os.path.join(ROOT, "configs", "models")
    names = [n for n in ("b", "s", "demo") if os.path.exists(os.path.join(folder, n + ".json"))]
    if not names:
        print("SKIP test_presets_match_engine_config_files: configs/models not in this checkout")
        return
    for n in names:
        with open(os.path.join(folder, n + ".json")) as f:
            assert json.loads(f.read()) == json.loads(config_json(PRESETS[n])), n


def test_reference_matches_numpy_oracle_on_fixture():
    w, meta = safetensors_io.load(os.path.join(FIX, "tiny.weights.safetensors"))
    cfg = json.loads(meta["ftp_pose.config"])
    model = load_model(os.path.join(FIX, "tiny.weights.safetensors"))
    io, _ = safetensors_io.load(os.path.join(FIX, "tiny.io.safetensors"))
    with torch.no_grad():
        out = model(torch.from_numpy(io["frames"]))
    for b in range(io["frames"].shape[0]):
        heat, idx_hr, idx_lr = numpy_oracle.forward(w, cfg, io["frames"][b], 6, 6)
        ref = out["heatmaps"][b].numpy()
        assert np.abs(heat - ref).max() <= 1e-5 * np.abs(heat).max()
        assert idx_hr.tolist() == out["idx_hr"][b].tolist()
        assert idx_lr.tolist() == out["idx_lr"][b].tolist()


def test_committed_fixtures_reproduce():
    for name, io_files in (("tiny", ("tiny.io", "tiny.unpruned.io")), ("demo", ("demo.io",))):
        path = os.path.join(FIX, f"{name}.weights.safetensors")
        _, meta = safetensors_io.load(path)
        assert meta["ftp_pose.config"] == config_json(PRESETS[name])
        model = load_model(path)
        for f in io_files:
            io, m = safetensors_io.load(os.path.join(FIX, f + ".safetensors"))
            prune = [int(v) for v in m["prune"].split(",")]
            with torch.no_grad():
                out = model(torch.from_numpy(io["frames"]), *prune)
            heat = out["heatmaps"].numpy()
            assert np.abs(heat - io["heatmaps"]).max() <= 1e-5 * np.abs(io["heatmaps"]).max(), f
            assert np.array_equal(out["idx_hr"].numpy(), io["idx_hr"]), f
            assert np.array_equal(out["idx_lr"].numpy(), io["idx_lr"]), f
            assert np.array_equal(decode(heat), io["keypoints"]), f


def test_crop_fixture_reproduces():
    t, meta = safetensors_io.load(os.path.join(MEDIA, "crop.safetensors"))
    h, w = (int(v) for v in meta["input_size"].split(","))
    for box, want in zip(t["boxes"], t["crops"]):
        assert np.abs(crop(t["image"], box, h, w) - want).max() < 1e-4
    # The fixture must exercise the black border.
    assert (t["crops"] == 0).any() and (t["crops"] > 0).mean() > 0.5


if __name__ == "__main__":
    torch.set_num_threads(1)
    failed = 0
    for name, fn in sorted(globals().items()):
        if name.startswith("test_") and callable(fn):
            try:
                fn()
                print(f"ok   {name}")
            except Exception as e:  # noqa: BLE001
                failed += 1
                print(f"FAIL {name}: {type(e).__name__}: {e}")
    sys.exit(1 if failed else 0)
