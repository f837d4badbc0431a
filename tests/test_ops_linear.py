"""sum_rows (a bias's gradient) and its fast twin, which folds short rows into long ones."""
import numpy as np
import pytest

from tinynet import ops
from tinynet.core.ops.linear import sum_rows


def test_reference_hand_computed():
    np.testing.assert_array_equal(sum_rows(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])), [9.0, 12.0])


@pytest.mark.parametrize("shape", [(1, 3), (7, 5), (25088, 16), (96, 512), (4096, 10), (6, 2000)])
def test_fast_sum_rows_matches_the_reference(shape):
    a = np.random.default_rng(shape[0]).standard_normal(shape)
    np.testing.assert_allclose(ops.get("fast").sum_rows(a), sum_rows(a), rtol=1e-12, atol=1e-12)
    a32 = a.astype(np.float32)
    exact = a32.astype(np.float64).sum(axis=0)
    got = ops.get("fast").sum_rows(a32)
    assert got.dtype == np.float32 and got.shape == (shape[1],)
    np.testing.assert_allclose(got, exact, rtol=1e-4, atol=1e-4 * np.sqrt(shape[0]))


def test_fast_sum_rows_of_a_strided_view():
    a = np.random.default_rng(0).standard_normal((64, 40))[:, ::2]        # not C-contiguous: no folding
    np.testing.assert_allclose(ops.get("fast").sum_rows(a), a.sum(axis=0), rtol=1e-12)
