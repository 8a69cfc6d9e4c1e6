"""Crops per second of the official TensorFlow Lite interpreter (PyPI `ai-edge-litert`, its default
XNNPACK CPU delegate) on BlazePose-Full, the comparison for `poseworker bench --model
blazepose-full.safetensors` (docs/BENCHMARKS.md). One interpreter per thread count; crops one at
a time (the model's batch is 1), `--threads` handed to XNNPACK.

Usage: python3 ops/bench/blazepose_tflite.py MODEL.tflite [--threads 1,2] [--crops 64] [--warmup 8]
"""
import argparse
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--crops", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=8)
    args = parser.parse_args()
    from ai_edge_litert.interpreter import Interpreter

    rng = np.random.default_rng(0)
    crops = rng.random((args.crops, 1, 256, 256, 3), dtype=np.float32)
    for threads in [int(t) for t in args.threads.split(",")]:
        interpreter = Interpreter(model_path=args.model, num_threads=threads)
        interpreter.allocate_tensors()
        index = interpreter.get_input_details()[0]["index"]
        for crop in crops[:args.warmup]:
            interpreter.set_tensor(index, crop)
            interpreter.invoke()
        start = time.perf_counter()
        for crop in crops:
            interpreter.set_tensor(index, crop)
            interpreter.invoke()
        seconds = time.perf_counter() - start
        print(f"tflite xnnpack threads={threads}: {args.crops / seconds:.1f} crops/s ({1000 * seconds / args.crops:.2f} ms/crop)")


if __name__ == "__main__":
    main()
