"""PyTorch side of the engine comparison: windows/s of the reference FTP-Pose on CPU, random
weights (speed does not depend on the values: pruning keeps a fixed number of tokens).

  python3 ops/bench/pytorch_bench.py --model s --batch 4 --threads 2 [--prune 6,6|1,1] [--bf16] [--sdpa] [--iterations N]

Run it next to `poseworker bench` with the same model/batch/threads/prune to get a ratio in one
sitting (the machine is shared and noisy). --sdpa swaps the reference's explicit attention for
torch's fused scaled_dot_product_attention (same maths): the strongest plain-PyTorch baseline.
--bf16 runs under torch.autocast(cpu, bfloat16).
"""

import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))

import ftp_pose  # noqa: E402
from configs import PRESETS  # noqa: E402


def _sdpa_self(self, x):
    b, n, c = x.shape
    hd = c // self.heads
    q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
    return self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c))


def _sdpa_cross(self, x, kv):
    b, n, c = x.shape
    m = kv.shape[1]
    hd = c // self.heads
    q = self.q(x).reshape(b, n, self.heads, hd).transpose(1, 2)
    k = self.k(kv).reshape(b, m, self.heads, hd).transpose(1, 2)
    v = self.v(kv).reshape(b, m, self.heads, hd).transpose(1, 2)
    return self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=sorted(PRESETS), default="s")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prune", default=None, help="HR,LR ratios (default: the config's 6,6; 1,1 = unpruned)")
    ap.add_argument("--bf16", action="store_true", help="torch.autocast(cpu, bfloat16)")
    ap.add_argument("--sdpa", action="store_true", help="fused scaled_dot_product_attention")
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = PRESETS[args.model]
    prune = tuple(int(v) for v in args.prune.split(",")) if args.prune else (cfg["prune_hr"], cfg["prune_lr"])
    if args.sdpa:
        ftp_pose.Attention.forward = _sdpa_self
        ftp_pose.CrossAttention.forward = _sdpa_cross
    model = ftp_pose.FTPPose(cfg).eval()
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.02)
    h, w = cfg["input_size"]
    frames = torch.randn(args.batch, cfg["frames"], 3, h, w)

    def step():
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            out = model(frames, prune[0], prune[1])
        return out["heatmaps"]

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.iterations):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(f"pytorch {torch.__version__} model={args.model} batch={args.batch} threads={args.threads} "
          f"prune={prune[0]},{prune[1]} precision={'bf16-autocast' if args.bf16 else 'fp32'} "
          f"attention={'sdpa' if args.sdpa else 'explicit'} iterations={args.iterations}")
    # Two figures: the best batch (closest to an unloaded machine: other processes only ever
    # slow a batch down) and the median. The machine is shared, so say which one a ratio uses.
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"windows/s: best {args.batch / min(times):.3f}, median {args.batch / med:.3f} "
          f"(batches of {args.batch}: min {min(times) * 1000:.1f} ms, median {med * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms; load average {load:.2f})")

if __name__ == "__main__":
    main()
