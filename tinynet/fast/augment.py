"""The fast twins of ``warp`` and ``resize`` (``tinynet/core/ops/image.py``): the sampling op behind the
random rotations, shifts and zooms, ImageDataGenerator, Resizing and UpSampling2D(interpolation='bilinear').

Same signature, same ``WarpCache`` (so the reference ``warp_backward`` is the backward of both), same
values: the tests compare them on random moves, sizes, fill modes and interpolations. What a batch of
128 MNIST images costs (three warps a batch for RandomRotation + RandomTranslation + RandomZoom) is
what ``benchmarks/augmentation_overhead.py`` measures. Two paths:

    separable   A diagonal for every image (a shift, a zoom, a resize): the row an output pixel reads
                depends on its row i only, the column on its column j only. So the coordinates are
                (N, out_h) and (N, out_w) numbers, not (N, out_h, out_w), and the read goes in two
                passes of whole lines: gather the two columns each output column lerps between (a
                gather of whole lines, after one transpose), lerp them by fc; then the same for rows,
                lerped by fr. No extended copy of the batch either: the fill mode maps the few line
                indices (a 'constant' fill reads one extra line of fill values). The operations and
                their order are the reference's (columns first, then rows, the same lerps, the
                coordinates in float64), so the values are the reference's bit for bit.
    general     any other A (a rotation, a shear, ImageDataGenerator's composed move): the reference's
                four reads per pixel, with
                - coordinates in the images' float dtype (float32 for training batches): half the
                  memory traffic. Bilinear reading is continuous in the coordinates, so the float32
                  rounding moves an output by float32 rounding only. Nearest reading jumps at half
                  pixels, so it keeps float64 coordinates and picks the same pixel.
                - the margins read off the four corners of each image's grid (the points are an
                  affine map of (i, j), so their extremes are at the corners) instead of min / max
                  passes over every point;
                - k = first pixel + r0 Wp + c0 summed in the float coordinates' own passes (exact for
                  whole numbers below 2 ** 24 in float32), then converted once;
                - the extension copied as slices (``extend``): each margin is a run of lines copied
                  forwards, backwards or repeated, not a gather of every pixel;
                - the three neighbours of k read through shifted views (``pixels[1:]`` at k is
                  ``pixels[k + 1]``), so no index arrays k + 1, k + Wp, k + Wp + 1 are made, and the
                  indices are NumPy's own integer type (``np.take`` converts any other first).
    resize      the points of a resize are the same for every batch of a shape: its plan (flat
                positions and fractions) is computed once per shape and kept (a few shapes).

Tried and not kept (no faster inside ``fit`` on the shared machine, CPU time per step): reading the
two horizontal neighbours as one 8-byte pair (2 gathers instead of 4, after building the pairs);
sampling 32 images at a time so the temporaries stay in the L2 cache; the separable path as two
batched matrix products ``Wr @ x @ Wc^T``.

Not done: composing consecutive RandomRotation / RandomTranslation / RandomZoom into one warp (as
ImageDataGenerator composes its moves into one matrix). Two reads are not one read of the composed move:
the second interpolates values the first already interpolated (a blur the single read has not), and
the first's fill is what the second reads at the border. So a composed warp would not equal the layers'
outputs, and only the model walk knows which layer follows which: an op cannot see it.
"""
import functools

import numpy as np

from ..core.ops import image, register
from ..core.ops.image import WarpCache, extend_index, in_one_period, margins


def float_dtype(x):
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)


# ----- the extension, by slices ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def extension(n, before, after, fill_mode):
    """One axis of ``image.extend``: its maps (index, real) and the margins as runs of slices,
    ``[(start, stop, source)]`` -- extended positions start:stop copy ``x[source]`` along the axis (a slice
    forwards, backwards, or one line repeated), or the fill value where ``source`` is None."""
    index, real = extend_index(np.arange(-before, n + after), n, fill_mode)
    index.flags.writeable = real.flags.writeable = False          # shared by every call with these margins
    runs = []
    for lo, hi in ((0, before), (before + n, before + n + after)):
        p = lo
        while p < hi:
            q, s = p + 1, int(index[p])
            if not real[p]:                                           # 'constant' outside: the fill value
                while q < hi and not real[q]:
                    q += 1
                runs.append((p, q, None))
                p = q
                continue
            step = int(index[q]) - s if q < hi and real[q] and abs(int(index[q]) - s) <= 1 else 1
            while q < hi and real[q] and int(index[q]) == s + step * (q - p):
                q += 1
            count = q - p
            if step == 1:
                source = slice(s, s + count)
            elif step == -1:
                source = slice(s, s - count if s - count >= 0 else None, -1)
            else:
                source = slice(s, s + 1)                              # one line, repeated by broadcasting
            runs.append((p, q, source))
            p = q
    return (index, real), tuple(runs)


def extend(x, pads, fill_mode, fill_value):
    """``image.extend``: the same (xp, maps), the centre copied once and each margin run as one slice."""
    (top, bottom), (left, right) = pads
    N, H, W, C = x.shape
    rows, row_runs = extension(H, top, bottom, fill_mode)
    cols, col_runs = extension(W, left, right, fill_mode)
    xp = np.empty((N, top + H + bottom, left + W + right, C), x.dtype)
    centre = xp[:, top:top + H]
    centre[:, :, left:left + W] = x
    for start, stop, source in col_runs:
        centre[:, :, start:stop] = fill_value if source is None else x[:, :, source]
    for start, stop, source in row_runs:                              # whole extended lines: corners included
        xp[:, start:stop] = fill_value if source is None else centre[:, source]
    return xp, (rows, cols)


# ----- the separable path: A diagonal -------------------------------------------------------------------
def line_reads(scale, shift, n, n_out, fill_mode, interpolation, dtype):
    """Along one axis, output index i reads ``scale[m] * i + shift[m]`` (float64, as the reference):
    the first neighbour (N, n_out) after ``in_one_period``, the fraction (N, n_out) in ``dtype`` (None for
    nearest), and the margins the extension would need."""
    coordinate = scale[:, None] * np.arange(n_out, dtype=np.float64) + shift[:, None]
    if interpolation == "nearest":
        first, fraction = np.floor(coordinate + 0.5), None          # NOTE: as the reference: halves round up
    else:
        first = np.floor(coordinate)
        fraction = (coordinate - first).astype(dtype)
    first = in_one_period(first.astype(np.intp), n, fill_mode)
    return first, fraction, margins(first, n)


def read_lines(lines, first, fraction, source):
    """``lines`` (N, n, L) -> (N, n_out, L): output line i of image m is line ``first[m, i]`` (nearest), or
    the lerp from it to the next by ``fraction[m, i]``. ``first`` counts in the extended image: its line p
    is line ``source[p]`` of ``lines``."""
    N, n, L = lines.shape
    flat = lines.reshape(N * n, L)
    base = np.arange(N)[:, None] * n
    a = np.take(flat, base + source[first], axis=0)
    if fraction is None:
        return a
    b = np.take(flat, base + source[first + 1], axis=0)
    b -= a                                                         # a + f (b - a), in place
    b *= fraction[..., None]
    b += a
    return b


def with_fill_line(lines, fill_value, constant):
    """``lines`` (N, n, ...) with one more line of ``fill_value`` at index n when ``constant``."""
    if not constant:
        return lines
    out = np.empty((lines.shape[0], lines.shape[1] + 1) + lines.shape[2:], lines.dtype)
    out[:, :-1] = lines
    out[:, -1] = fill_value
    return out


def separable_warp(x, A, t, out_shape, fill_mode, fill_value, interpolation, dtype):
    """The warp of a diagonal A, columns then rows (see the module docstring); the reference's values."""
    N, H, W, C = x.shape
    out_h, out_w = out_shape
    r0, fr, (top, bottom) = line_reads(A[:, 0, 0], t[:, 0], H, out_h, fill_mode, interpolation, dtype)
    c0, fc, (left, right) = line_reads(A[:, 1, 1], t[:, 1], W, out_w, fill_mode, interpolation, dtype)
    rows, _ = extension(H, top, bottom, fill_mode)
    cols, _ = extension(W, left, right, fill_mode)
    constant = fill_mode == "constant"
    # extended index p -> the line it copies (index n: the fill line, 'constant' only)
    row_source, col_source = np.where(rows[1], rows[0], H), np.where(cols[1], cols[0], W)
    by_columns = with_fill_line(x.transpose(0, 2, 1, 3), fill_value, constant)      # (N, W (+1), H, C)
    upper_lower = read_lines(by_columns.reshape(N, -1, H * C), c0 + left, fc, col_source)   # (N, out_w, H C)
    by_rows = with_fill_line(upper_lower.reshape(N, out_w, H, C).transpose(0, 2, 1, 3), fill_value, constant)
    y = read_lines(by_rows.reshape(N, -1, out_w * C), r0 + top, fr, row_source).reshape(N, out_h, out_w, C)
    # the reference's cache: the top-left neighbour in the extended batch, the fractions broadcast
    Hp, Wp = top + H + bottom, left + W + right
    itype = np.int32 if N * Hp * Wp < 2 ** 31 else np.int64          # the backward reads it once: half the bytes
    row_start = (np.arange(N)[:, None] * (Hp * Wp) + (r0 + top) * Wp + left).astype(itype)
    k = row_start[:, :, None] + c0[:, None, :].astype(itype)
    weights = None if fr is None else (np.broadcast_to(fr[:, :, None, None], (N, out_h, out_w, 1)),
                                       np.broadcast_to(fc[:, None, :, None], (N, out_h, out_w, 1)))
    return y, WarpCache(k, weights, (N, Hp, Wp, C), (rows, cols), x.shape)


# ----- the general path -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def _steps(n, dtype):
    """0, 1, ..., n - 1 as ``dtype`` (read-only: shared by every call)."""
    steps = np.arange(n, dtype=dtype)
    steps.flags.writeable = False
    return steps


def grid_terms(A, t, out_h, out_w, dtype):
    """The row term (N, out_h, 1) and column term (N, 1, out_w) of ``(r, c) = A[n] @ (i, j) + t[n]`` in ``dtype``:
    r = r_rows + r_cols, c = c_rows + c_cols."""
    i, j = _steps(out_h, dtype)[None, :, None], _steps(out_w, dtype)[None, None, :]
    A, t = np.asarray(A, dtype), np.asarray(t, dtype)
    return ((A[:, 0, 0, None, None] * i, A[:, 0, 1, None, None] * j + t[:, 0, None, None]),
            (A[:, 1, 0, None, None] * i, A[:, 1, 1, None, None] * j + t[:, 1, None, None]))


def extremes(rows, cols, nearest):
    """The least and greatest first neighbour over the grid ``rows + cols``. NOTE: each term is monotone in its
    index and a rounded sum is monotone in each term, so the extremes are at the grid's four corners."""
    corners = rows[:, [0, -1]] + cols[:, :, [0, -1]]               # (N, 2, 2), summed as the grid is
    if nearest:
        corners += 0.5
    return int(np.floor(corners.min())), int(np.floor(corners.max()))


def first_neighbours(rows, cols, n, fill_mode, nearest):
    """The grid's first neighbours (N, out_h, out_w) after ``in_one_period``, as whole numbers in the grid's
    float dtype; the fractions (or None); the margins."""
    coordinate = rows + cols
    first = np.floor(coordinate + 0.5 if nearest else coordinate)
    fraction = None
    if not nearest:
        coordinate -= first                                        # the fractions, in place of the coordinates
        fraction = coordinate
    low, high = extremes(rows, cols, nearest)
    period = {"reflect": 2 * n, "mirror": max(2 * n - 2, 1), "wrap": n}.get(fill_mode)
    if period is None:                                             # nearest / constant: clipped just outside
        np.clip(first, -2, n, out=first)
        low, high = min(max(low, -2), n), min(max(high, -2), n)
    elif low < -period or high >= period:                          # rare: a point a period away, fold all
        first = in_one_period(first, n, fill_mode)                 # (np.mod of whole floats is exact)
        low, high = int(first.min()), int(first.max())
    return first, fraction, (max(0, -low), max(0, high + 2 - n))


def plan(x_shape, A, t, out_shape, fill_mode, interpolation, dtype):
    """Where every output pixel reads: (flat top-left positions k (N, out_h, out_w) in the extended batch,
    fractions (fr, fc) (N, out_h, out_w) or None, the margins ((top, bottom), (left, right)))."""
    N, H, W, _ = x_shape
    out_h, out_w = out_shape
    nearest = interpolation == "nearest"
    (r_rows, r_cols), (c_rows, c_cols) = grid_terms(A, t, out_h, out_w, np.float64 if nearest else dtype)
    r0, fr, (top, bottom) = first_neighbours(r_rows, r_cols, H, fill_mode, nearest)
    c0, fc, (left, right) = first_neighbours(c_rows, c_cols, W, fill_mode, nearest)
    Hp, Wp = top + H + bottom, left + W + right
    first_pixel = np.arange(N) * (Hp * Wp) + top * Wp + left
    # NOTE: k = first pixel + r0 Wp + c0 summed in the floats r0 and c0 already are (4-byte passes for
    # float32), which is exact while every k is below 2 ** (mantissa bits + 1); then one conversion.
    if N * Hp * Wp < 2 ** (np.finfo(r0.dtype).nmant + 1):
        r0 *= Wp
        r0 += c0
        r0 += first_pixel.astype(r0.dtype)[:, None, None]
        k = r0.astype(np.intp)
    else:
        k = r0.astype(np.intp) * Wp + c0.astype(np.intp) + first_pixel[:, None, None]
    return k, None if nearest else (fr, fc), ((top, bottom), (left, right))


def sample(x, k, fractions, pads, fill_mode, fill_value, dtype):
    """Read the planned points of ``x``: y (N, out_h, out_w, C) and the WarpCache."""
    xp, maps = extend(x.astype(dtype, copy=False), pads, fill_mode, fill_value)
    N, Hp, Wp, C = xp.shape
    one_channel = C == 1
    pixels = xp.reshape(-1) if one_channel else xp.reshape(N * Hp * Wp, C)

    def read(shift):                                       # pixels[k + shift], through a shifted view
        return np.take(pixels[shift:], k) if one_channel else np.take(pixels[shift:], k, axis=0)

    if fractions is None:
        y = read(0)
        return (y[..., None] if one_channel else y), WarpCache(k, None, xp.shape, maps, x.shape)
    fr, fc = fractions
    weights = (fr[..., None], fc[..., None])
    if not one_channel:
        fr, fc = weights
    x00, x01, x10, x11 = read(0), read(1), read(Wp), read(Wp + 1)
    # upper = x00 + fc (x01 - x00), lower = x10 + fc (x11 - x10), y = upper + fr (lower - upper), in place
    x01 -= x00
    x01 *= fc
    x01 += x00
    x11 -= x10
    x11 *= fc
    x11 += x10
    x11 -= x01
    x11 *= fr
    x11 += x01
    return (x11[..., None] if one_channel else x11), WarpCache(k, weights, xp.shape, maps, x.shape)


def warp(x, A, t, out_shape=None, fill_mode="reflect", fill_value=0.0, interpolation="bilinear"):
    """image.warp: the separable path for a diagonal A, else the general one (see the module docstring)."""
    N, H, W, C = x.shape
    dtype = float_dtype(x)
    out_shape = (H, W) if out_shape is None else tuple(out_shape)
    A, t = np.asarray(A, np.float64), np.asarray(t, np.float64)
    if not (A[:, 0, 1].any() or A[:, 1, 0].any()):
        return separable_warp(x.astype(dtype, copy=False), A, t, out_shape, fill_mode, fill_value, interpolation,
                              dtype)
    k, fractions, pads = plan(x.shape, A, t, out_shape, fill_mode, interpolation, dtype)
    return sample(x, k, fractions, pads, fill_mode, fill_value, dtype)


@functools.lru_cache(maxsize=8)
def _resize_plan(x_shape, out_shape, interpolation, dtype):
    N, H, W, _ = x_shape
    A, t = image.resize_matrices(N, H, W, *out_shape)
    k, fractions, pads = plan(x_shape, A, t, out_shape, "nearest", interpolation, dtype)
    for array in (k, *(fractions or ())):
        array.flags.writeable = False                      # shared by every batch of this shape
    return k, fractions, pads


def resize(x, out_h, out_w, interpolation="bilinear"):
    """image.resize, its points planned once per shape (the same for every batch)."""
    dtype = float_dtype(x)
    k, fractions, pads = _resize_plan(x.shape, (out_h, out_w), interpolation, dtype)
    return sample(x, k, fractions, pads, "nearest", 0.0, dtype)


register("warp", reference=image.warp, fast=warp)
register("warp_backward", reference=image.warp_backward)
register("resize", reference=image.resize, fast=resize)
