"""The reference ops' argument checks: one clear error naming the argument, expected and received.

The ops call them first thing, so a wrong shape fails where it was passed, not deep inside a matrix
product; they sit here so that the ops' files read as the maths.
"""
import numpy as np

from ..checks import check_choice, check_pair

PADDINGS = ("valid", "same")


def check_padding(padding):
    """``padding`` lower-cased, or a ValueError unless it is 'valid' or 'same'."""
    return check_choice(padding, "padding", PADDINGS)


def check_images(x, name="x"):
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        raise ValueError(f"Expected `{name}` to be a 4-D array (N, H, W, C). "
                         f"Received: {name} with shape {getattr(x, 'shape', type(x).__name__)}")


def check_kernel(x, w, b):
    if not isinstance(w, np.ndarray) or w.ndim != 4 or w.shape[2] != x.shape[3]:
        raise ValueError(f"Expected `w` of shape (kh, kw, C={x.shape[3]}, F) for x of shape {x.shape}. "
                         f"Received: w with shape {getattr(w, 'shape', type(w).__name__)}")
    if b is not None and np.shape(b) != (w.shape[3],):
        raise ValueError(f"Expected `b` of shape ({w.shape[3]},). Received: b with shape {np.shape(b)}")


def check_dout(dout, expected):
    if dout.shape != tuple(expected):
        raise ValueError(f"Expected `dout` of shape {tuple(expected)}, the shape of the forward output. "
                         f"Received: dout with shape {dout.shape}")


def check_window(kh, kw, strides):
    """``(kh, kw), (sh, sw)``: the window and the strides as pairs of positive integers."""
    return check_pair((kh, kw), "kernel_size"), check_pair(strides, "strides")


def check_conv2d(x, w, b, strides, padding):
    """conv2d_forward's arguments: the images, the kernel and bias, ``(sh, sw)`` and 'valid' or 'same'."""
    check_images(x)
    check_kernel(x, w, b)
    return check_pair(strides, "strides"), check_padding(padding)


def check_dcols(dcols, expected, x_shape, kh, kw):
    if dcols.shape != expected:
        raise ValueError(f"Expected `dcols` of shape {expected} for x_shape={x_shape}, "
                         f"kernel {kh}x{kw}. Received: dcols with shape {dcols.shape}")


def check_dz(dz, pixels, F):
    if dz.size != pixels * F or dz.shape[-1] != F:
        raise ValueError(f"Expected `dz` with {pixels} pixels x {F} filters, the shape of the forward "
                         f"output. Received: dz with shape {dz.shape}")
