"""Trains FTP-Pose (docs/TRAINING.md). One trainer for every data source:

  --data synth:DIR                 a `posecoord synth` archive (mp4 + annotations/)
  --data posetrack:ROOT[:SPLIT]    PoseTrack 2017/2018/2021, official layout, split train|val
  --data pseudo:VIDEOS:LABELS      real video + a teacher's `posecoord run` output (part 3)

(--data may be repeated; the windows are pooled). Windows are cropped exactly as the Swift
pipeline crops them; the defaults are the FTP-Pose paper's recipe (256x192, patch 16, T=3,
Gaussian targets sigma 2, weighted MSE, AdamW 2e-3 divided by 10 at epoch 16 of 20, TDMI
augmentation identical over the T frames).

One process:         python3 ops/train/train.py --data ... --out W.safetensors
Several GPUs:        torchrun --nproc_per_node 8 ops/train/train.py --data ... --out W.safetensors

A run keeps its state in --work (default OUT.work/): `checkpoint.pt` (model, optimiser, step,
torch RNG) written every --checkpoint-every steps and at each epoch's end; the data order and
every augmentation draw are functions of (seed, epoch, position), so a run killed at any point
and started again with the same command resumes from its last checkpoint and ends with the same
weights as one that was never interrupted. After each epoch the weights are exported and, with
--val-archive, scored by the Swift engine (`posecoord run` + `posecoord eval`).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "reference"))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

import data  # noqa: E402
import engine  # noqa: E402
import ftp_pose  # noqa: E402
import safetensors_io  # noqa: E402
import vitpose  # noqa: E402
from configs import PRESETS, config_json  # noqa: E402
from ftp_pose import FTPPose  # noqa: E402


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a = ap.add_argument
    a("--data", action="append", required=True, help="synth:DIR | posetrack:ROOT[:SPLIT] | pseudo:VIDEOS:LABELS (repeatable)")
    a("--out", required=True, help="exported weights (safetensors, config + provenance in the metadata)")
    a("--work", help="checkpoints, per-epoch exports and eval outputs (default OUT.work)")
    # model
    a("--config", default="s", choices=sorted(PRESETS), help="preset (FTP-POSE.md section 7); the flags below override it")
    a("--input", help="H,W (paper: 256,192)")
    a("--patch", type=int, help="patch size (paper: 16)")
    a("--frames", type=int, help="T (paper: 3)")
    a("--prune", help="HR,LR pruning ratios (paper: 6,6)")
    a("--no-hr-branch", action="store_true", help="ablation: the fine tokens are not refined (config hr_branch false)")
    a("--token-recovery", choices=["scatter", "attention"], help="ablation: HoT's token recovering attention instead of scatter-restore")
    a("--init", help="start from these FTP-Pose weights (same config)")
    a("--init-backbone", help="mmpose ViTPose .pth: load backbone.* (report: loaded / skipped / mismatched)")
    # recipe
    a("--epochs", type=int, default=20)
    a("--lr", type=float, default=2e-3)
    a("--lr-steps", default="16", help="epochs at which the lr is divided by --lr-factor")
    a("--lr-factor", type=float, default=10.0)
    a("--warmup-steps", type=int, default=500, help="linear warm-up from lr/1000 (mmpose's)")
    a("--weight-decay", type=float, default=1e-4)
    a("--batch", type=int, default=32, help="windows per step per process")
    a("--steps-per-epoch", type=int, default=0, help="0: one pass over the windows; N: N steps (windows reused cyclically)")
    a("--max-steps", type=int, default=0, help="stop after this many steps in all (0: all epochs)")
    a("--max-minutes", type=float, default=0, help="stop (checkpoint + export) after this much training time this session")
    a("--sigma", type=float, default=2.0)
    a("--clip-grad", type=float, default=0.0, help="gradient norm clip (0: off)")
    a("--flip", type=float, default=0.5, help="flip probability (left/right joints swapped)")
    a("--rotation", type=float, default=45.0, help="max rotation, degrees")
    a("--rotation-prob", type=float, default=0.6)
    a("--scale", type=float, default=0.35, help="scale drawn in 1 +- this")
    a("--half-body", type=float, default=0.3, help="half-body probability")
    a("--no-augment", action="store_true", help="no flip/rotation/scale/half-body")
    a("--negatives", type=float, default=0.2, help="synth: chance per frame of a background window")
    a("--pseudo-min-score", type=float, default=0.5)
    a("--pseudo-frames", default="0,0.8", help="pseudo: share of each video's frames to train on (rest held out)")
    # run
    a("--seed", type=int, default=0)
    a("--bf16", action="store_true", help="bfloat16 autocast (DPC selection kept in float32)")
    a("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    a("--workers", type=int, default=0, help="DataLoader worker processes")
    a("--checkpoint-every", type=int, default=200, help="steps between checkpoints")
    a("--no-resume", action="store_true", help="ignore an existing checkpoint in --work")
    a("--val-archive", help="archive scored after each epoch by posecoord run + eval")
    a("--val-gt", help="its ground truth (default VAL/annotations)")
    a("--val-detections", help="its detections folder (default: next to the videos)")
    a("--posecoord", help="posecoord binary (default .build/release/posecoord, then PATH)")
    a("--log-every", type=int, default=20, help="progress line every N steps when stderr is not a terminal")
    return ap.parse_args(argv)


def model_config(args):
    cfg = dict(PRESETS[args.config])
    if args.input:
        cfg["input_size"] = [int(v) for v in args.input.split(",")]
    if args.patch:
        cfg["patch_size"] = args.patch
    if args.frames:
        cfg["frames"] = args.frames
    if args.prune:
        cfg["prune_hr"], cfg["prune_lr"] = (int(v) for v in args.prune.split(","))
    if args.no_hr_branch:
        cfg["hr_branch"] = False
    if args.token_recovery and args.token_recovery != "scatter":
        cfg["token_recovery"] = args.token_recovery
    return cfg


def git_commit():
    try:
        root = os.path.dirname(os.path.dirname(HERE))
        out = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        return out + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Progress:
    """One line: epoch, step, bar, loss (running mean), lr, windows/s, ETA. Redrawn in place on a
    terminal, else printed every `every` steps."""

    def __init__(self, total, start, every):
        self.total, self.start_step, self.every = total, start, every
        self.t0 = time.time()
        self.tty = sys.stderr.isatty()
        self.losses = []

    def update(self, step, epoch, epochs, loss, lr, windows):
        self.losses.append(loss)
        done = step - self.start_step
        el = time.time() - self.t0
        eta = el / max(done, 1) * (self.total - step)
        width = 24
        fill = int(width * step / max(self.total, 1))
        line = (f"epoch {epoch + 1}/{epochs} [{'#' * fill}{'.' * (width - fill)}] {step}/{self.total} "
                f"loss {np.mean(self.losses[-50:]):.6f} lr {lr:.2e} {windows * done / max(el, 1e-9):.1f} win/s "
                f"ETA {int(eta // 3600)}:{int(eta % 3600 // 60):02d}:{int(eta % 60):02d}")
        if self.tty:
            sys.stderr.write("\r" + line + "\x1b[K")
            sys.stderr.flush()
        elif step % self.every == 0 or step == self.total:
            print(line, file=sys.stderr, flush=True)

    def newline(self):
        if self.tty:
            sys.stderr.write("\n")


def init_weights(model):
    """As the reference's training scripts: trunc-normal 0.02 for weights and embeddings, zero biases."""
    for name, p in model.named_parameters():
        if name.endswith(("pos_embed", "hr_pos", "lr_pos", "time_embed")) or p.dim() >= 2:
            torch.nn.init.trunc_normal_(p, std=0.02)
        elif name.endswith("bias"):
            torch.nn.init.zeros_(p)


def force_fp32_selection():
    """DPC in float32 even under bf16 autocast: the kept tokens must be those inference keeps."""
    if getattr(ftp_pose.dpc_select, "fp32_forced", False):
        return
    select = ftp_pose.dpc_select

    def dpc_select_fp32(x, keep, knn_k, tau):
        with torch.autocast(x.device.type, enabled=False):
            return select(x.detach().float(), keep, knn_k, tau)

    dpc_select_fp32.fp32_forced = True
    ftp_pose.dpc_select = dpc_select_fp32


def export(model, cfg, path, meta):
    tensors = {k: v.detach().float().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    tmp = path + ".tmp"
    safetensors_io.save(tmp, tensors, {"ftp_pose.config": config_json(cfg), **meta})
    os.replace(tmp, path)


def save_checkpoint(path, model, opt, step, args_dict):
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                "torch_rng": torch.get_rng_state(), "args": args_dict}, tmp)
    os.replace(tmp, path)


def lr_at(args, step, steps_per_epoch):
    milestones = [int(e) * steps_per_epoch for e in args.lr_steps.split(",") if e]
    lr = args.lr / (args.lr_factor ** sum(step >= m for m in milestones))
    if args.warmup_steps and step < args.warmup_steps:
        ratio = 1e-3
        lr *= ratio + (1 - ratio) * step / args.warmup_steps
    return lr


def batch_keys(order_for_epoch, step, steps_per_epoch, batch, rank, world):
    """Keys (epoch, global position, window) of this rank's part of global step `step`."""
    epoch, i = divmod(step, steps_per_epoch)
    order = order_for_epoch(epoch)
    start = (i * world + rank) * batch
    return [(epoch, p, int(order[p])) for p in range(start, start + batch)]


def collate(samples):
    frames, heat, weight = zip(*samples)
    return torch.from_numpy(np.stack(frames)), torch.from_numpy(np.stack(heat)), torch.from_numpy(np.stack(weight))


def weighted_mse(pred, target, weight):
    return (((pred - target) ** 2) * weight[:, :, None, None]).mean()


def main(argv=None):
    args = parse_args(argv)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
    else:
        rank, world = 0, 1
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    is_main = rank == 0

    def log(msg):
        if is_main:
            print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    cfg = model_config(args)
    work = args.work or args.out + ".work"
    os.makedirs(work, exist_ok=True)
    ckpt_path = os.path.join(work, "checkpoint.pt")

    pseudo_range = tuple(float(v) for v in args.pseudo_frames.split(","))
    sources = [data.open_source(spec, seed=args.seed, negatives=args.negatives, pseudo_min_score=args.pseudo_min_score,
                                pseudo_range=pseudo_range) for spec in args.data]
    for s in sources:
        log(s.description)
    aug = data.Augment.none() if args.no_augment else data.Augment(
        flip=args.flip, rotation=args.rotation, rotation_prob=args.rotation_prob, scale=args.scale, half_body=args.half_body)
    dataset = data.WindowDataset(sources, cfg, aug, args.seed, args.sigma)
    n = len(dataset)
    global_batch = args.batch * world
    steps_per_epoch = args.steps_per_epoch or n // global_batch
    if steps_per_epoch <= 0:
        raise SystemExit(f"{n} windows is less than one global batch of {global_batch}")
    total_steps = args.epochs * steps_per_epoch
    if args.max_steps:
        total_steps = min(total_steps, args.max_steps)
    need = steps_per_epoch * global_batch
    orders = {}

    def order_for_epoch(epoch):
        if epoch not in orders:
            reps = [np.random.default_rng([args.seed, epoch, r, 0xDA7A]).permutation(n) for r in range(-(-need // n))]
            orders.clear()
            orders[epoch] = np.concatenate(reps)[:need]
        return orders[epoch]

    torch.manual_seed(args.seed)
    force_fp32_selection()
    model = FTPPose(cfg)
    init_weights(model)
    if args.init:
        tensors, meta = safetensors_io.load(args.init)
        other = json.loads(meta["ftp_pose.config"])
        same_shapes = {k: v for k, v in other.items() if k not in ("prune_hr", "prune_lr", "hr_branch", "token_recovery")}
        if same_shapes != {k: v for k, v in cfg.items() if k not in ("prune_hr", "prune_lr", "hr_branch", "token_recovery")}:
            raise SystemExit(f"--init {args.init}: its config differs from this run's beyond pruning/ablation keys ({config_json(cfg)})")
        missing, unexpected = model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=False)
        if unexpected:
            raise SystemExit(f"--init {args.init}: tensors this model does not have: {unexpected[:5]}")
        log(f"weights from {args.init}" + (f" (newly initialised: {', '.join(missing)})" if missing else ""))
    if args.init_backbone:
        vitpose.load_backbone(model, vitpose.read_checkpoint(args.init_backbone), log=log)
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    step = 0
    if os.path.exists(ckpt_path) and not args.no_resume:
        ck = torch.load(ckpt_path, map_location=device, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        step = ck["step"]
        torch.set_rng_state(ck["torch_rng"])
        log(f"resumed from {ckpt_path} at step {step}")
    train_model = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    log(f"{json.dumps(cfg)}: {sum(p.numel() for p in model.parameters())} parameters; {n} windows, "
        f"{steps_per_epoch} steps/epoch x {args.epochs} epochs (stop at {total_steps}), batch {args.batch} x {world}, "
        f"lr {args.lr}, bf16 {args.bf16}, device {device}")

    def keys_from(start):
        for s in range(start, total_steps):
            yield batch_keys(order_for_epoch, s, steps_per_epoch, args.batch, rank, world)

    loader = torch.utils.data.DataLoader(dataset, batch_sampler=list(keys_from(step)), num_workers=args.workers,
                                         collate_fn=collate)
    provenance = {"train.data": json.dumps(args.data), "train.seed": str(args.seed), "train.git_commit": git_commit(),
                  "train.recipe": json.dumps({k: v for k, v in vars(args).items()
                                              if k not in ("data", "out", "work", "posecoord", "val_archive", "val_gt", "val_detections")},
                                             sort_keys=True)}
    if args.init:
        provenance["train.init"] = os.path.basename(args.init)
    if args.init_backbone:
        provenance["train.init_backbone"] = os.path.basename(args.init_backbone)
    posecoord = engine.find_binary("posecoord", args.posecoord) if args.val_archive else None
    if args.val_archive and not posecoord:
        log("validation skipped: no posecoord binary (build it with swift build -c release, or --posecoord)")
    progress = Progress(total_steps, step, args.log_every)
    history, epoch_losses = [], []
    started = time.time()
    model.train()
    for frames, heat, weight in loader:
        frames, heat, weight = frames.to(device), heat.to(device), weight.to(device)
        lr = lr_at(args, step, steps_per_epoch)
        for group in opt.param_groups:
            group["lr"] = lr
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
            pred = train_model(frames)["heatmaps"]
        loss = weighted_mse(pred.float(), heat, weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if args.clip_grad:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip_grad)
        opt.step()
        step += 1
        epoch_losses.append(loss.item())
        epoch_done = step % steps_per_epoch == 0
        out_of_time = bool(args.max_minutes) and time.time() - started > args.max_minutes * 60
        if distributed and args.max_minutes:
            flag = torch.tensor([float(out_of_time)], device=device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            out_of_time = bool(flag.item())
        if is_main:
            progress.update(step, (step - 1) // steps_per_epoch, args.epochs, loss.item(), lr, global_batch)
            if step % args.checkpoint_every == 0 or epoch_done or step == total_steps or out_of_time:
                save_checkpoint(ckpt_path, model, opt, step, vars(args))
            if epoch_done or step == total_steps or out_of_time:
                epoch = (step - 1) // steps_per_epoch + 1
                meta = {**provenance, "train.steps": str(step), "train.epochs": f"{step / steps_per_epoch:g}"}
                path = os.path.join(work, f"epoch-{epoch:03d}.safetensors")
                export(model, cfg, path, meta)
                entry = {"epoch": epoch, "step": step, "loss": float(np.mean(epoch_losses)),
                         "minutes": (time.time() - started) / 60}
                if posecoord:
                    progress.newline()
                    ev = engine.evaluate(path, args.val_archive, posecoord, args.val_gt, args.val_detections,
                                         keep=os.path.join(work, "eval"))
                    entry["val_map"] = ev["total"]
                    log(f"epoch {epoch}: validation mAP {ev['total']:.1f} (posecoord eval on {args.val_archive})")
                history.append(entry)
                with open(os.path.join(work, "history.jsonl"), "a") as f:
                    f.write(json.dumps(entry) + "\n")
            if epoch_done:
                epoch_losses = []
        if out_of_time:
            log(f"--max-minutes {args.max_minutes:g} reached at step {step}: the same command resumes from here")
            break
    progress.newline()
    if is_main:
        meta = {**provenance, "train.steps": str(step), "train.epochs": f"{step / steps_per_epoch:g}"}
        export(model, cfg, args.out, meta)
        log(f"done: {step} steps in {(time.time() - started) / 60:.1f} min this session; wrote {args.out}")
    if distributed:
        dist.destroy_process_group()
    return history


if __name__ == "__main__":
    main()
