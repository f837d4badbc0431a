"""Sums over the rows of a matrix: a bias's gradient, db = sum over rows of dz (Dense, Conv2D)."""


def sum_rows(a):
    """a: (M, K) -> (K,), the sum of the M rows: sum_m a[m, k]."""
    return a.sum(axis=0)
