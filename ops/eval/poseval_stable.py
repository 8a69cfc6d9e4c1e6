#!/usr/bin/env python3
"""Runs the official kit's `poseval.evaluate` with two sources of arbitrariness pinned:
ground-truth files in sorted name order (it uses glob's file-system order) and a stable
argsort for the score ranking (numpy's default sort is not stable for more than a few
elements, and with AVX-512 its tie order depends on the build). With these, posecoord
eval's conventions (docs/EVAL.md) apply exactly, also for tied scores.

usage: PYTHONPATH=POSEVAL_CHECKOUT python3 poseval_stable.py [poseval.evaluate arguments]
"""
import glob as _glob
import sys
import types

import numpy as _np

from poseval import eval_helpers, evaluate


class _StableArgsort(_np.ndarray):
    def argsort(self, axis=-1, kind=None, order=None, **kwargs):
        return _np.asarray(self).argsort(axis=axis, kind="stable", order=order)


class _NumpyWithStableArgsort(types.ModuleType):
    def __getattr__(self, name):
        return getattr(_np, name)

    @staticmethod
    def array(*args, **kwargs):
        return _np.array(*args, **kwargs).view(_StableArgsort)


eval_helpers.np = _NumpyWithStableArgsort("numpy")
eval_helpers.glob = types.SimpleNamespace(glob=lambda pattern: sorted(_glob.glob(pattern)))

if __name__ == "__main__":
    sys.argv[0] = "poseval.evaluate"
    evaluate.main()
