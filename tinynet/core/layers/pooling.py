"""Pooling layers: MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D (no weights).

Each channel is pooled on its own over ph x pw windows moved by ``strides`` (default:
``pool_size``), with Keras/TensorFlow output sizes. The arithmetic is in ``tinynet.ops``:
the references in ``ops/pooling.py`` (``impl='naive'``), the fast twins in ``tinynet/fast/pooling.py``.
"""
from ..checks import check_pair
from ..ops import check_impl
from ..ops.checks import check_padding
from ..ops.conv import conv_output_size
from .base import Layer
from .core import check_data_format


class _Pooling2D(Layer):
    """Settings and output shape shared by max and average pooling."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", impl="fast", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.impl = check_impl(impl, self.name)
        check_data_format(data_format, self.name)
        self.pool_size = check_pair(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else check_pair(strides, "strides")
        self.padding = check_padding(padding)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects images of shape (height, width, "
                f"channels) without the batch axis. Received: input_shape={tuple(input_shape)}")
        H, W, C = input_shape
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        if self.padding == "valid" and (ph > H or pw > W):
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): with padding='valid' the {ph}x{pw} window "
                f"must fit in the {H}x{W} input. Received: input_shape={tuple(input_shape)}")
        return conv_output_size(H, ph, sh, self.padding), conv_output_size(W, pw, sw, self.padding), C

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # checks the input's rank and size
        super().build(input_shape)


class MaxPooling2D(_Pooling2D):
    """Max pooling: each output is the largest input in its window.

        y[n, i, j, c] = max_{di < ph, dj < pw} x[n, i*sh + di, j*sw + dj, c]

    Shapes: ``x: (N, H, W, C) -> y: (N, out_h, out_w, C)``.

    Backward: each window's gradient goes to the input that was its maximum; the others get
    none. NOTE: on ties the FIRST maximum in row-major window order (top row first, then
    left to right) gets the whole gradient, like np.argmax. With ``padding='same'`` the
    padding is -inf, so it never wins. Cache: the op's ``MaxPool2DCache`` (the padded x and y).
    """

    equation = "y[n,i,j,c] = max_{di,dj} x[n, i*sh+di, j*sw+dj, c]"

    def forward(self, x, training=False):
        y, self.cache = self.ops.maxpool2d_forward(x, self.pool_size, self.strides, self.padding)
        return y

    def backward(self, dout):
        return self.ops.maxpool2d_backward(dout, self.cache)  # dx[the window's first max] = dout

    def argmax(self):
        """For each window of the last forward, the offset di*pw + dj of the input backward sends
        its gradient to (its first maximum): which side of the max's kinks the input is on.
        (N, out_h, out_w, C) ints."""
        return self.ops.maxpool2d_argmax(self.cache)


class AveragePooling2D(_Pooling2D):
    """Average pooling: each output is the mean of its window.

        y[n, i, j, c] = (1 / count) * sum_{di < ph, dj < pw} x[n, i*sh + di, j*sw + dj, c]

    ``count`` is ph*pw, or with ``padding='same'`` the number of real (unpadded) inputs in
    the window, as in TensorFlow. Shapes: ``x: (N, H, W, C) -> y: (N, out_h, out_w, C)``.

    Backward: every input in a window receives dout / count from it. Cache: the op's
    ``AvgPool2DCache`` (shapes and the window counts).
    """

    equation = "y[n,i,j,c] = mean_{di,dj} x[n, i*sh+di, j*sw+dj, c]"

    def forward(self, x, training=False):
        y, self.cache = self.ops.avgpool2d_forward(x, self.pool_size, self.strides, self.padding)
        return y

    def backward(self, dout):
        return self.ops.avgpool2d_backward(dout, self.cache)  # dx[every cell of a window] += dout / count


class _GlobalPooling2D(Layer):
    """Settings and output shape shared by global average and global max pooling: (N, H, W, C) -> (N, C)."""

    def __init__(self, impl="fast", data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.impl = check_impl(impl, self.name)
        check_data_format(data_format, self.name)
        if keepdims:
            raise ValueError(f"Layer '{self.name}': keepdims=True is not implemented in tinynet.")

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects images of shape (height, width, "
                f"channels) without the batch axis. Received: input_shape={tuple(input_shape)}")
        return (input_shape[-1],)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        super().build(input_shape)

    def get_config(self):
        return {**super().get_config(), "impl": self.impl}


class GlobalAveragePooling2D(_GlobalPooling2D):
    """The mean of each channel over the whole image: ``y[n, c] = mean_{i,j} x[n, i, j, c]``.

    Shapes: ``x: (N, H, W, C) -> y: (N, C)``. Backward: ``dx[n, i, j, c] = dout[n, c] / (H*W)``.
    Cache: x.shape.
    """

    equation = "y[n,c] = mean_{i,j} x[n,i,j,c]"

    def forward(self, x, training=False):
        y, self.cache = self.ops.global_avgpool2d_forward(x)
        return y

    def backward(self, dout):
        return self.ops.global_avgpool2d_backward(dout, self.cache)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """The largest value of each channel over the whole image: ``y[n, c] = max_{i,j} x[n, i, j, c]``.

    Shapes: ``x: (N, H, W, C) -> y: (N, C)``. Backward: each channel's gradient goes to the input
    that was its maximum, ``dx[n, i*, j*, c] = dout[n, c]``, 0 elsewhere. NOTE: on ties the FIRST
    maximum in row-major order takes it all, as in MaxPooling2D. Cache: (x.shape, the position of each
    channel's first maximum).
    """

    equation = "y[n,c] = max_{i,j} x[n,i,j,c]"

    def forward(self, x, training=False):
        y, self.cache = self.ops.global_maxpool2d_forward(x)
        return y

    def backward(self, dout):
        return self.ops.global_maxpool2d_backward(dout, self.cache)   # dx[the channel's first max] = dout


# Keras's short names for the same layers.
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
