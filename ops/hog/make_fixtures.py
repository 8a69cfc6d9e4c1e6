#!/usr/bin/env python3
"""Golden fixtures for the Swift HOG detector (Tests/PoseDetectTests/Fixtures/hog): 20 real frames
of OpenCV's vtest.avi (every 40th, grey, 480x360, JPEG quality 60; a few hundred KB in all) and
the boxes cv2.HOGDescriptor().detectMultiScale finds on them with the default people detector,
after enlarging each frame twice with INTER_LINEAR_EXACT. CI reads the committed files and needs
no Python.

    bash ops/real/fetch_vtest.sh /tmp/vtest          # the video (Debian opencv-doc, checked)
    /tmp/hog-venv/bin/python ops/hog/make_fixtures.py /tmp/vtest/vtest.avi

The frames are grey so that every JPEG decoder (libjpeg-turbo's accurate DCT, in OpenCV's wheel
and in libturbojpeg) gives the same pixels; grey JPEGs decode to equal R, G, B.
"""
import json, os, sys

PARAMETERS = {"window_stride": 8, "scale_step": 1.05, "hit_threshold": 0.0, "group_threshold": 2, "upscale": 2.0}
FRAMES = list(range(0, 795, 40))  # 20 frames
SIZE = (480, 360)

def main():
    import cv2
    import numpy as np
    if len(sys.argv) != 2:
        sys.exit("usage: make_fixtures.py VTEST.avi")
    if not cv2.__version__.startswith("4."):
        sys.exit(f"needs opencv-python-headless 4.x, found {cv2.__version__}")
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    out = os.path.join(root, "Tests", "PoseDetectTests", "Fixtures", "hog")
    os.makedirs(out, exist_ok=True)
    cv2.setNumThreads(1)
    capture = cv2.VideoCapture(sys.argv[1])
    frames, index = {}, 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index in FRAMES:
            frames[index] = frame
        index += 1
    assert len(frames) == len(FRAMES), f"read {index} frames, wanted indices up to {FRAMES[-1]}"
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    p = PARAMETERS
    records, total_bytes = [], 0
    for index in FRAMES:
        grey = cv2.resize(cv2.cvtColor(frames[index], cv2.COLOR_BGR2GRAY), SIZE, interpolation=cv2.INTER_AREA)
        ok, data = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, 60])
        name = f"vtest_{index:03d}.jpg"
        with open(os.path.join(out, name), "wb") as f:
            f.write(data.tobytes())
        total_bytes += len(data)
        # What the test decodes: the JPEG, as colour (grey replicated into B, G, R).
        image = cv2.imdecode(np.frombuffer(data.tobytes(), np.uint8), cv2.IMREAD_COLOR)
        searched = cv2.resize(image, None, fx=p["upscale"], fy=p["upscale"], interpolation=cv2.INTER_LINEAR_EXACT)
        rects, weights = hog.detectMultiScale(searched, p["hit_threshold"], (p["window_stride"],) * 2, (0, 0),
                                              p["scale_step"], p["group_threshold"])
        boxes = sorted([[int(v) for v in r] + [round(float(w), 6)] for r, w in zip(rects, np.ravel(weights))])
        records.append({"file": name, "frame": index, "boxes": boxes})
    document = {
        "source": "vtest.avi (Debian opencv-doc 4.6.0, sha256 45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf)",
        "opencv": cv2.__version__,
        "call": "HOGDescriptor() + getDefaultPeopleDetector(); detectMultiScale(resize(img, fx=fy=upscale, INTER_LINEAR_EXACT), hit_threshold, (stride, stride), (0, 0), scale_step, group_threshold)",
        "parameters": PARAMETERS,
        "boxes": "[x, y, w, h, weight] in pixels of the enlarged frame",
        "frames": records,
    }
    with open(os.path.join(out, "opencv_boxes.json"), "w") as f:
        json.dump(document, f, indent=1)
        f.write("\n")
    print(f"wrote {len(records)} frames ({total_bytes} bytes of JPEG), {sum(len(r['boxes']) for r in records)} boxes to {out}")

if __name__ == "__main__":
    main()
