#!/usr/bin/env python3
"""Draws one frame's people (box and skeleton) from a PoseTrack file onto the frame, as PNG:
    overlay.py VIDEO POSES.json FRAME OUT.png
Standard library only; ffmpeg decodes the frame and writes the PNG. A stand-in for
`posecoord render`, used by ops/real/demo.sh where that command is not available."""
import json, subprocess, sys

# PoseTrack 2018 limbs (1-based, as categories[0].skeleton), ears left out (never labelled).
SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7],
            [6, 8], [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3]]
COLOURS = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
           (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212)]

def size_of(video):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                          "-of", "csv=p=0", video], check=True, capture_output=True, text=True).stdout
    w, h = out.strip().split(",")[:2]
    return int(w), int(h)

def main():
    video, poses, frame, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    w, h = size_of(video)
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", video, "-vf", f"select=eq(n\\,{frame})", "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    assert len(raw) == w * h * 3, f"frame {frame}: got {len(raw)} bytes"
    pixels = bytearray(raw)

    def dot(x, y, colour, r=1):
        for yy in range(int(y) - r, int(y) + r + 1):
            for xx in range(int(x) - r, int(x) + r + 1):
                if 0 <= xx < w and 0 <= yy < h:
                    i = (yy * w + xx) * 3
                    pixels[i:i + 3] = bytes(colour)

    def line(x0, y0, x1, y1, colour, r=1):
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        for s in range(steps + 1):
            t = s / steps
            dot(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, colour, r)

    doc = json.load(open(poses))
    image_id = doc["images"][frame]["id"]
    people = [a for a in doc["annotations"] if a["image_id"] == image_id]
    for a in people:
        colour = COLOURS[a.get("track_id", 0) % len(COLOURS)]
        x, y, bw, bh = a["bbox"]
        for (u0, v0, u1, v1) in [(x, y, x + bw, y), (x + bw, y, x + bw, y + bh), (x + bw, y + bh, x, y + bh), (x, y + bh, x, y)]:
            line(u0, v0, u1, v1, colour, 0)
        k = a["keypoints"]
        for p, q in SKELETON:
            line(k[3 * (p - 1)], k[3 * (p - 1) + 1], k[3 * (q - 1)], k[3 * (q - 1) + 1], colour, 1)
        for j in range(17):
            if j not in (3, 4):
                dot(k[3 * j], k[3 * j + 1], (255, 255, 255), 2)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-i", "-",
                    "-frames:v", "1", out], input=bytes(pixels), check=True)
    print(f"{out}: frame {frame}, {len(people)} people")

if __name__ == "__main__":
    main()
