"""Minimal safetensors reader/writer (numpy), so the reference needs no extra package.
Format: u64 little-endian header length, JSON header (padded with spaces to 8 bytes),
then the raw little-endian tensor bytes at the header's offsets."""

import json
import struct

import numpy as np

_DTYPES = {
    "F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I32": np.dtype("<i4"), "I64": np.dtype("<i8"),
    "U8": np.dtype("u1"), "F16": np.dtype("<f2"),
}
_NAMES = {v: k for k, v in _DTYPES.items()}


def save(path, tensors, metadata=None):
    """tensors: name -> numpy array (dtype one of F32/F64/I32/I64/U8/F16). Names sorted."""
    header = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise ValueError("safetensors __metadata__ must map strings to strings")
        header["__metadata__"] = dict(metadata)
    blobs, offset = [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        key = _NAMES.get(arr.dtype.newbyteorder("<"))
        if key is None:
            raise ValueError(f"{name}: unsupported dtype {arr.dtype}")
        data = arr.astype(_DTYPES[key], copy=False).tobytes()
        header[name] = {"dtype": key, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def load(path):
    """Returns (tensors: name -> numpy array, metadata: dict)."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    out = {}
    for name, info in header.items():
        dt = _DTYPES[info["dtype"]]
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(buf[base + a:base + b], dtype=dt).reshape(info["shape"]).copy()
    return out, meta
