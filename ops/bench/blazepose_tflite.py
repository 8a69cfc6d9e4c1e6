"""Crops per second of the official TensorFlow Lite interpreter (PyPI `ai-edge-litert`, its default
XNNPACK CPU delegate) on BlazePose-Full, the comparison for `poseworker bench --model
blazepose-full.safetensors` (docs/BENCHMARKS.md). One interpreter per thread count; crops one at
a time (the model's batch is 1), `--threads` handed to XNNPACK. Prints wall-clock crops/s and crops
per CPU-second (process CPU time), the figure that survives a loaded machine.

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
        start, cpu_start = time.perf_counter(), time.process_time()
        for crop in crops:
            interpreter.set_tensor(index, crop)
            interpreter.invoke()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        print(f"tflite xnnpack threads={threads}: {args.crops / seconds:.2f} crops/s ({1000 * seconds / args.crops:.2f} ms/crop); "
              f"CPU {1000 * cpu / args.crops:.1f} ms/crop ({cpu / seconds:.2f} cores busy): {args.crops / cpu:.2f} crops per CPU-second")


if __name__ == "__main__":
    main()
