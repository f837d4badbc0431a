"""Pooling layers: MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D (no weights).

Each channel is pooled on its own over windows of ``pool_size`` moved by ``strides``
(default: ``pool_size``), with Keras/TensorFlow output sizes; the arithmetic lives in
``tinynet.ops.pooling``.
"""
from ..ops import naive, pooling
from ..ops.conv import as_pair, check_padding, conv_output_size
from .base import Layer


class _Pooling2D(Layer):
    """Settings and output shape shared by max and average pooling."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = as_pair(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else as_pair(strides, "strides")
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

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding}


class MaxPooling2D(_Pooling2D):
    """Max pooling: each output is the largest input in its window.

        y[n, i, j, c] = max_{di < ph, dj < pw} x[n, i*sh + di, j*sw + dj, c]

    Shapes: ``x: (N, H, W, C) -> y: (N, out_h, out_w, C)``.

    Backward: each window's gradient goes to the input that was its maximum; the others get
    none. NOTE: on ties the FIRST maximum in row-major window order (top row first, then
    left to right) gets the whole gradient, like np.argmax. With ``padding='same'`` the
    padding is -inf, so it never wins.
    """

    equation = "y[n,i,j,c] = max_{di,dj} x[n, i*sh+di, j*sw+dj, c]"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", impl="fast", **kwargs):
        super().__init__(pool_size, strides, padding, **kwargs)
        # impl='naive': the per-window loop in tinynet.ops.naive, to read and to compare with
        self.impl = naive.check_impl(impl, self.name)

    def forward(self, x, training=False):
        if self.impl == "naive":
            y, self.cache = naive.maxpool2d_forward(x, self.pool_size, self.strides, self.padding)
            return y
        # The cache holds (a padded view of) x and y itself, the references backward needs
        # to find each window's maximum again; it costs no copy unless 'same' pads.
        y, self.cache = pooling.maxpool2d_forward(x, self.pool_size, self.strides, self.padding)
        return y

    def backward(self, dout):
        if self.impl == "naive":
            return naive.maxpool2d_backward(dout, self.cache)
        return pooling.maxpool2d_backward(dout, self.cache)

    def get_config(self):
        return {**super().get_config(), "impl": self.impl}


class AveragePooling2D(_Pooling2D):
    """Average pooling: each output is the mean of its window.

        y[n, i, j, c] = (1 / count) * sum_{di < ph, dj < pw} x[n, i*sh + di, j*sw + dj, c]

    ``count`` is ph*pw, or with ``padding='same'`` the number of real (unpadded) inputs in
    the window, as in TensorFlow. Shapes: ``x: (N, H, W, C) -> y: (N, out_h, out_w, C)``.

    Backward: every input in a window receives dout / count from it.
    """

    equation = "y[n,i,j,c] = mean_{di,dj} x[n, i*sh+di, j*sw+dj, c]"

    def forward(self, x, training=False):
        y, self.cache = pooling.avgpool2d_forward(x, self.pool_size, self.strides, self.padding)
        return y  # the cache holds only shapes and the window counts

    def backward(self, dout):
        return pooling.avgpool2d_backward(dout, self.cache)


class GlobalAveragePooling2D(Layer):
    """The mean of each channel over the whole image: ``y[n, c] = mean_{i,j} x[n, i, j, c]``.

    Shapes: ``x: (N, H, W, C) -> y: (N, C)``. Backward: ``dx[n, i, j, c] = dout[n, c] / (H*W)``.
    """

    equation = "y[n,c] = mean_{i,j} x[n,i,j,c]"

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"Layer '{self.name}' (GlobalAveragePooling2D) expects images of shape (height, width, "
                f"channels) without the batch axis. Received: input_shape={tuple(input_shape)}")
        return (input_shape[-1],)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        super().build(input_shape)

    def forward(self, x, training=False):
        y, self.x_shape = pooling.global_avgpool2d_forward(x)  # backward needs only the shape
        return y

    def backward(self, dout):
        return pooling.global_avgpool2d_backward(dout, self.x_shape)


# Keras's short names for the same layers.
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
