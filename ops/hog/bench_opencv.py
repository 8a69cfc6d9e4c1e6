#!/usr/bin/env python3
"""OpenCV's side of the HOG benchmark (Tests/PoseDetectTests/HOGBenchTests.swift runs it right
after the Swift side): frames/s of detectMultiScale on the fixture frames, 1 and 2 threads,
same parameters (upscale 2 with INTER_LINEAR_EXACT, stride 8, scale 1.05, group threshold 2).
    bench_opencv.py FIXTURE_FOLDER"""
import glob, os, sys, time

def main():
    import cv2
    folder = sys.argv[1]
    frames = [cv2.imread(p, cv2.IMREAD_COLOR) for p in sorted(glob.glob(os.path.join(folder, "*.jpg")))]
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    for threads in (1, 2):
        cv2.setNumThreads(threads)
        best = float("inf")
        for _ in range(2):
            start = time.perf_counter()
            boxes = 0
            for frame in frames:
                searched = cv2.resize(frame, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_LINEAR_EXACT)
                rects, _ = hog.detectMultiScale(searched, 0.0, (8, 8), (0, 0), 1.05, 2)
                boxes += len(rects)
            best = min(best, time.perf_counter() - start)
        print(f"opencv threads {threads}: {len(frames) / best:.2f} frames/s ({best / len(frames):.3f} s/frame), OpenCV {cv2.__version__}, {boxes} boxes")
    sys.stdout.flush()

if __name__ == "__main__":
    main()
