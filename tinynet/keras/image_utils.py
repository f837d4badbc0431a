"""``keras.utils.array_to_img`` / ``img_to_array`` / ``save_img`` (``keras.preprocessing.image`` in Keras 2):
images as arrays ``(H, W, C)`` and back, written as PNG through matplotlib (loaded on first use).

Keras returns a PIL image; tinynet returns a small ``Image`` holding the 8-bit pixels, with what scripts call
on it: ``save(path)``, ``size`` (width, height), ``mode``, and ``np.asarray(image)``.
"""
import numpy as np

from ..core.checks import invalid


class Image:
    """8-bit pixels ``(H, W)`` (mode 'L') or ``(H, W, 3 or 4)`` (mode 'RGB' / 'RGBA')."""

    def __init__(self, pixels):
        self.pixels = pixels
        self.mode = {2: "L", 3: "RGB", 4: "RGBA"}[pixels.shape[-1] if pixels.ndim == 3 else 2]

    @property
    def size(self):
        return self.pixels.shape[1], self.pixels.shape[0]

    def __array__(self, dtype=None, copy=None):
        return self.pixels if dtype is None else self.pixels.astype(dtype)

    def save(self, path, format=None):  # noqa: A002  (PIL's name)
        from matplotlib import image
        image.imsave(path, self.pixels, cmap="gray" if self.mode == "L" else None, vmin=0, vmax=255,
                     format=format or "png")


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """An ``Image`` from an array ``(H, W, C)`` with C = 1, 3 or 4 (channels-last). ``scale=True`` maps the
    array's range to [0, 255] (x - min, then * 255 / max), as Keras does; otherwise values are taken as pixels."""
    x = np.asarray(x, dtype=np.float64)
    if data_format == "channels_first" and x.ndim == 3:
        x = np.moveaxis(x, 0, -1)
    if x.ndim != 3 or x.shape[-1] not in (1, 3, 4):
        raise invalid("x", "an image array of shape (height, width, 1, 3 or 4 channels)", x.shape, "array_to_img")
    if scale:
        x = x - x.min()
        top = x.max()
        if top != 0:
            x = x * (255.0 / top)
    pixels = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    return Image(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)


def img_to_array(img, data_format=None, dtype="float32"):
    """The image as a float array ``(H, W, C)``: a grey image gets its channel axis, as Keras gives it."""
    x = np.asarray(img, dtype=dtype)
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3:
        raise invalid("img", "an image of shape (height, width) or (height, width, channels)", x.shape,
                      "img_to_array")
    return np.moveaxis(x, -1, 0) if data_format == "channels_first" else x


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Write the array ``x`` (H, W, C) as an image file (PNG)."""
    array_to_img(x, data_format=data_format, scale=scale).save(path, format=file_format)


__all__ = ["Image", "array_to_img", "img_to_array", "save_img"]
