"""Conv2D: the 2-D convolution layer, a Dense layer applied to im2col's patches."""
from ..checks import check_bool, check_pair
from ..ops import check_impl
from ..ops.checks import check_padding
from ..ops.conv import conv_output_size
from . import activations
from .base import Layer
from .core import check_data_format, check_initializer, check_positive_int, check_weight_settings


class Conv2D(Layer):
    """2-D convolution (a cross-correlation, as in Keras), then ``y = act(z)`` as its own step:

        z[n, i, j, f] = b[f] + sum_{di, dj, c} xp[n, i*sh + di, j*sw + dj, c] * w[di, dj, c, f]

    where xp is x zero-padded as TensorFlow does for ``padding='same'`` (output size
    ceil(n / stride); an odd total padding puts the extra row/column at the bottom/right),
    or x itself for ``'valid'`` (output size floor((n - k) / stride) + 1).

    Shapes (channels-last): ``x: (N, H, W, C)``, kernel ``w: (kh, kw, C, F)`` (F = filters),
    bias ``b: (F,)``, ``y: (N, out_h, out_w, F)``; weights are [kernel, bias], laid out as
    in Keras so ``get_weights`` / ``set_weights`` exchange them with Keras.

    With im2col gathering each output pixel's kh*kw*C inputs into one row, and
    ``w_col = w.reshape(kh*kw*C, F)``, the layer is a Dense layer applied to patches:

        cols = im2col(x)                       (N*out_h*out_w, kh*kw*C)
        z = cols @ w_col + b                   (N*out_h*out_w, F)

    Backward, with dz = dL/dz from the activation's backward, as (N*out_h*out_w, F) rows:

        dw_col = cols.T @ dz        db = sum of the rows of dz        dx = col2im(dz @ w_col.T)

    col2im folds the rows back onto the image: every input pixel collects the gradient of
    each patch it appeared in. ``ops.conv2d_forward`` / ``ops.conv2d_backward`` compute
    exactly these lines; their references in ``tinynet/core/ops/conv.py`` are these lines
    (``impl='naive'``), the fast twins in ``tinynet/fast/conv.py`` reorder the work.
    Cache: the op's ``Conv2DCache`` (x, cols, w, ...).
    """

    equation = "y[n,i,j,f] = act(b[f] + sum_{di,dj,c} x[n, i*sh+di, j*sw+dj, c] * w[di,dj,c,f])"

    def forward(self, x, training=False):
        b = self.bias.data if self.use_bias else None
        # cols = im2col(x); z = cols @ w_col + b     (in inference no backward is expected: training=False)
        z, self.cache = self.ops.conv2d_forward(x, self.kernel.data, b, self.strides, self.padding, training)
        return z                                   # the activation runs after, as its own step

    def backward(self, dz):                       # dz: (N, out_h, out_w, F), from the activation's backward
        # dw_col = cols.T @ dz;  db = sum of the rows of dz;  dx = col2im(dz @ w_col.T)
        dx, dw, db = self.ops.conv2d_backward(dz, self.cache, need_dx=self.needs_input_gradient)
        self.kernel.grad[...] = dw
        if self.use_bias:
            self.bias.grad[...] = db
        return dx  # None for the first layer of a model: nobody uses dx

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", input_shape=None, impl="fast",
                 data_format="channels_last", dilation_rate=(1, 1), kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(input_shape=input_shape, **kwargs)
        self.impl = check_impl(impl, self.name)
        check_data_format(data_format, self.name)
        if check_pair(dilation_rate, "dilation_rate") != (1, 1):
            raise ValueError(f"Layer '{self.name}': dilated convolutions are not implemented in tinynet. "
                             f"Received: dilation_rate={dilation_rate!r} (only 1 or (1, 1) is supported).")
        self.filters = check_positive_int(filters, "filters")
        self.kernel_size = check_pair(kernel_size, "kernel_size")
        self.strides = check_pair(strides, "strides")
        self.padding = check_padding(padding)
        self.activation = activations.get(activation, owner=self.name)
        self.use_bias = check_bool(use_bias, "use_bias")
        self.kernel_initializer = check_initializer(kernel_initializer, "kernel_initializer")
        self.bias_initializer = check_initializer(bias_initializer, "bias_initializer")
        (self.kernel_regularizer, self.bias_regularizer, self.activity_regularizer, self.kernel_constraint,
         self.bias_constraint) = check_weight_settings(kernel_regularizer, bias_regularizer, activity_regularizer,
                                                       kernel_constraint, bias_constraint)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # checks the input's rank and size
        kh, kw = self.kernel_size
        self.kernel = self.add_weight("kernel", (kh, kw, input_shape[-1], self.filters), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
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
