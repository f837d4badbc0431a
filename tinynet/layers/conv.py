"""Conv2D: the 2-D convolution layer, as one matrix product over im2col's patches."""
import numpy as np

from ..ops import naive
from ..ops.conv import as_pair, check_padding, conv2d_input_gradient, conv_output_size, im2col
from . import activations
from .base import Layer
from .core import _initializer_name, check_initializer, check_positive_int


class Conv2D(Layer):
    """2-D convolution (a cross-correlation, as in Keras): ``y = act(conv(x, W) + b)``.

        y[n, i, j, o] = act(b[o] + sum_{di, dj, c} xp[n, i*sh + di, j*sw + dj, c] * W[di, dj, c, o])

    where xp is x zero-padded as TensorFlow does for ``padding='same'`` (output size
    ceil(n / stride); an odd total padding puts the extra row/column at the bottom/right),
    or x itself for ``'valid'`` (output size floor((n - k) / stride) + 1).

    Shapes (channels-last): ``x: (N, H, W, C_in)``, kernel ``W: (kh, kw, C_in, filters)``,
    bias ``b: (filters,)``, ``y: (N, out_h, out_w, filters)``; weights are [kernel, bias],
    laid out as in Keras so ``get_weights`` / ``set_weights`` exchange them with Keras.

    With im2col (``tinynet.ops.conv``) gathering each output pixel's kh*kw*C_in inputs into
    one row, the layer is a Dense layer applied to patches:

        cols = im2col(x): (N*out_h*out_w, kh*kw*C_in)     W2 = W.reshape(kh*kw*C_in, filters)
        z = cols @ W2 + b

    Backward, with dz = dL/dz from the activation's backward, as (M, filters) rows:
        dW2 = cols^T dz        db = sum over rows of dz        dcols = dz W2^T
    and dx folds dcols back onto the image (col2im: every input pixel collects the gradient
    of each patch it appeared in). Here dx is computed offset by offset
    (``conv2d_input_gradient``), the same sum without materialising dcols; and the code
    appends a column of ones to cols and the bias as a row to W2, so that z and [dW2; db]
    are each one product (``_kernel_rows``).
    """

    equation = "y[n,i,j,o] = act(b[o] + sum_{di,dj,c} x[n, i*sh+di, j*sw+dj, c] * W[di,dj,c,o])"

    # In inference a large batch is convolved in chunks of samples, so that im2col's matrix
    # stays under this many bytes (predict(x, batch_size=10000) would otherwise build a
    # 1.1 GB matrix for the second convolution of the MNIST CNN). Training keeps the whole
    # batch's matrix, because backward needs it.
    max_inference_cols_bytes = 64 * 2 ** 20

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", input_shape=None, impl="fast", **kwargs):
        super().__init__(input_shape=input_shape, **kwargs)
        # impl='naive': the nested-loop reference in tinynet.ops.naive, to read and to compare with
        self.impl = naive.check_impl(impl, self.name)
        self.filters = check_positive_int(filters, "filters")
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.strides = as_pair(strides, "strides")
        self.padding = check_padding(padding)
        self.activation = activations.get(activation, owner=self.name)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = check_initializer(kernel_initializer, "kernel_initializer")
        self.bias_initializer = check_initializer(bias_initializer, "bias_initializer")

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # checks the input's rank and size
        kh, kw = self.kernel_size
        self.kernel = self.add_weight("kernel", (kh, kw, input_shape[-1], self.filters), self.kernel_initializer)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer) if self.use_bias else None
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"Layer '{self.name}' (Conv2D) expects images of shape (height, width, channels) "
                f"without the batch axis. Received: input_shape={tuple(input_shape)}")
        H, W, _ = input_shape
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        if self.padding == "valid" and (kh > H or kw > W):
            raise ValueError(
                f"Layer '{self.name}' (Conv2D): with padding='valid' the {kh}x{kw} kernel must fit in the "
                f"{H}x{W} input. Received: input_shape={tuple(input_shape)}, kernel_size={self.kernel_size}")
        return (conv_output_size(H, kh, sh, self.padding), conv_output_size(W, kw, sw, self.padding),
                self.filters)

    def forward(self, x, training=False):
        if self.impl == "naive":
            self.x = x
            bias = self.bias.data if self.use_bias else None
            return self.activation.forward(
                naive.conv2d_forward(x, self.kernel.data, bias, self.strides, self.padding), training)
        kh, kw = self.kernel_size
        N = x.shape[0]
        out_h, out_w, _ = self.compute_output_shape(x.shape[1:])
        w2 = self._kernel_rows()                               # (kh*kw*C_in [+ 1], filters)
        self.x = x  # backward rebuilds im2col(x) from it after an inference-mode forward
        if training:
            self.cols = self._im2col(x)                        # dW = cols^T dz needs it
            z = self.cols @ w2
        else:
            self.cols = None
            z = np.empty((N * out_h * out_w, self.filters), dtype=np.result_type(x, w2))
            patch_bytes = out_h * out_w * kh * kw * x.shape[-1] * x.itemsize
            chunk = max(1, self.max_inference_cols_bytes // patch_bytes)   # samples per im2col
            rows = out_h * out_w
            for start in range(0, N, chunk):
                cols = self._im2col(x[start:start + chunk])
                np.matmul(cols, w2, out=z[start * rows:start * rows + len(cols)])
        return self.activation.forward(z.reshape(N, out_h, out_w, self.filters), training)

    def _im2col(self, x):
        kh, kw = self.kernel_size
        return im2col(x, kh, kw, self.strides, self.padding, ones_column=self.use_bias)

    def _kernel_rows(self):
        """The kernel as a (kh*kw*C_in, filters) matrix, with the bias as one more row when
        there is one: im2col's column of ones multiplies it, so z = [cols, 1] @ [W2; b]
        adds the bias inside the product instead of in a pass over z of its own."""
        w2 = self.kernel.data.reshape(-1, self.filters)
        return np.vstack([w2, self.bias.data]) if self.use_bias else w2

    def backward(self, dout):
        if self.impl == "naive":
            dx, dw, db = naive.conv2d_backward(
                self.activation.backward(dout), self.x, self.kernel.data, self.strides, self.padding)
            self.kernel.grad[...] = dw
            if self.use_bias:
                self.bias.grad[...] = db
            return dx
        dz = self.activation.backward(dout).reshape(-1, self.filters)   # (N*out_h*out_w, filters)
        cols = self.cols if self.cols is not None else self._im2col(self.x)
        dw2 = cols.T @ dz                                      # dW2 = cols^T dz
        if self.use_bias:
            dw2, self.bias.grad[...] = dw2[:-1], dw2[-1]       # the ones column's row: db = sum of dz's rows
        self.kernel.grad[...] = dw2.reshape(self.kernel.grad.shape)
        if not self.needs_input_gradient:
            return None  # the first layer of a model: nobody uses dx, skip its kh*kw products
        return conv2d_input_gradient(dz, self.kernel.data, self.x.shape, self.strides, self.padding)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "activation": activations.name_of(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": _initializer_name(self.kernel_initializer),
                "bias_initializer": _initializer_name(self.bias_initializer), "impl": self.impl}
