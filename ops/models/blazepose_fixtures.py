"""Golden fixtures for the Swift BlazePose (Tests/BlazePoseTests/Fixtures), from the official
TensorFlow Lite interpreter (PyPI `ai-edge-litert`, XNNPACK off so the reference is TFLite's own
kernels) on 32 crops of 256 x 256 RGB:
  - 16 real crops around people in vtest.avi (OpenCV's sample, Debian's opencv-doc), boxes picked
    by hand on frames 0, 300 and 600 and cropped as the pipeline does (square, 1.25 x the box's
    long side, bilinear, pixel i at centre + (i - 128) * side / 256);
  - 8 variants of them (mirrored, zoomed out, shifted) and 8 synthetic images (flat, noise,
    gradients, a checkerboard), where the pose flag is low.
Writes crops.u8.zst (zstd of [32, 256, 256, 3] uint8) and golden.safetensors (landmarks [32, 195],
pose_flag [32], the model file's SHA-256 in the metadata).

Usage: python3 ops/models/blazepose_fixtures.py MODEL.tflite VTEST.avi OUT_DIR
"""
import hashlib
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
import safetensors_io  # noqa: E402

SIDE = 256
# (frame, x, y, w, h) in vtest.avi's 768 x 576 pixels.
BOXES = [(0, 250, 218, 35, 92), (0, 500, 155, 32, 80), (0, 638, 238, 48, 85),
         (300, 185, 157, 35, 78), (300, 242, 157, 30, 65), (300, 298, 157, 28, 75), (300, 313, 210, 33, 88),
         (300, 582, 158, 30, 78), (300, 618, 158, 28, 78),
         (600, 188, 143, 28, 72), (600, 567, 199, 30, 90), (600, 668, 207, 35, 90), (600, 453, 300, 50, 118),
         (600, 640, 303, 32, 110), (600, 283, 430, 50, 146), (600, 456, 302, 44, 114)]


def frames(video, wanted):
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", video, "-vf",
                          "select=" + "+".join(f"eq(n\\,{f})" for f in sorted(wanted)), "-vsync", "0",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    images = np.frombuffer(raw, np.uint8).reshape(-1, 576, 768, 3)
    return dict(zip(sorted(wanted), images))


def crop(image, cx, cy, side):
    """Bilinear, edge pixels repeated, rounded half up: pixel (u, v) samples cx + (u - 128) * side / 256."""
    h, w, _ = image.shape
    u = cx + (np.arange(SIDE) - SIDE / 2) * side / SIDE
    v = cy + (np.arange(SIDE) - SIDE / 2) * side / SIDE
    u = np.clip(u, 0, w - 1)
    v = np.clip(v, 0, h - 1)
    x0 = np.floor(u).astype(int); y0 = np.floor(v).astype(int)
    x1 = np.minimum(x0 + 1, w - 1); y1 = np.minimum(y0 + 1, h - 1)
    fx = (u - x0)[None, :, None]; fy = (v - y0)[:, None, None]
    img = image.astype(np.float64)
    top = img[y0][:, x0] * (1 - fx) + img[y0][:, x1] * fx
    bottom = img[y1][:, x0] * (1 - fx) + img[y1][:, x1] * fx
    return np.floor(top * (1 - fy) + bottom * fy + 0.5).clip(0, 255).astype(np.uint8)


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    model_path, video, out = sys.argv[1:]
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    images = frames(video, {b[0] for b in BOXES})
    crops = []
    for frame, x, y, w, h in BOXES:
        crops.append(crop(images[frame], x + w / 2, y + h / 2, max(w, h) * 1.25))
    real = crops[:]
    crops.append(real[0][:, ::-1])
    crops.append(real[5][:, ::-1])
    for (frame, x, y, w, h), scale, dx in [(BOXES[1], 2.5, 0), (BOXES[4], 1.0, 0.3), (BOXES[10], 1.6, -0.2),
                                           (BOXES[13], 0.9, 0.1), (BOXES[14], 3.0, 0.0), (BOXES[6], 1.25, -0.35)]:
        half = crop(images[frame], x + w / 2 + dx * w, y + h / 2, max(w, h) * 1.25 * scale)[::2, ::2]
        crops.append(half.repeat(2, 0).repeat(2, 1))  # 128 x 128 doubled: a smaller fixture
    rng = np.random.default_rng(9)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    synthetic = [np.full((SIDE, SIDE, 3), 128), np.zeros((SIDE, SIDE, 3)), np.full((SIDE, SIDE, 3), 255),
                 np.kron(rng.integers(0, 256, (64, 64, 3)), np.ones((4, 4, 1))),
                 np.stack([xx // 4 * 4, yy // 4 * 4, 255 - xx // 4 * 4], -1),
                 ((xx // 32 + yy // 32) % 2 * 255)[..., None].repeat(3, -1),
                 np.kron(rng.integers(0, 256, (16, 16, 3)), np.ones((16, 16, 1))),
                 np.stack([(xx + yy) // 2, 128 + 0 * xx, yy], -1)]
    crops += [s.astype(np.uint8) for s in synthetic]
    crops = np.ascontiguousarray(np.stack(crops))
    assert crops.shape == (32, SIDE, SIDE, 3), crops.shape

    interpreter = Interpreter(model_path=model_path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]["index"]
    outs = {d["name"]: d["index"] for d in interpreter.get_output_details()}
    landmarks, flags = [], []
    for c in crops:
        interpreter.set_tensor(inp, (c.astype(np.float32) / np.float32(255))[None])
        interpreter.invoke()
        landmarks.append(interpreter.get_tensor(outs["Identity"]).reshape(195).copy())
        flags.append(float(interpreter.get_tensor(outs["Identity_1"]).reshape(())))
    os.makedirs(out, exist_ok=True)
    raw = os.path.join(out, "crops.u8")
    crops.tofile(raw)
    subprocess.run(["zstd", "-q", "-19", "-f", "--rm", raw, "-o", raw + ".zst"], check=True)
    model_sha = hashlib.sha256(open(model_path, "rb").read()).hexdigest()
    safetensors_io.save(os.path.join(out, "golden.safetensors"),
                        {"landmarks": np.stack(landmarks).astype(np.float32), "pose_flag": np.array(flags, np.float32),
                         "crops_sha256": np.frombuffer(hashlib.sha256(crops.tobytes()).digest(), np.uint8)},
                        {"model_sha256": model_sha, "interpreter": "ai-edge-litert BUILTIN_REF kernels",
                         "crops": "32 x 256 x 256 x 3 uint8 in crops.u8.zst; 16 real (vtest.avi), 8 variants, 8 synthetic"})
    print("pose flags:", " ".join(f"{f:.3f}" for f in flags))


if __name__ == "__main__":
    main()
