"""Conv2DTranspose: the transposed convolution, small images to big ones (autoencoders' decoders, DCGAN generators)."""
from ..checks import check_bool, check_int, check_pair, invalid, is_int
from ..ops.checks import check_padding
from ..ops.conv_transpose import conv2d_transpose_backward, conv2d_transpose_forward, conv_transpose_output_size
from . import activations
from .base import Layer
from .core import check_data_format, check_initializer, check_positive_int, check_weight_settings


class Conv2DTranspose(Layer):
    """The transposed convolution (sometimes called deconvolution): ``y = act(z)``,

        z = col2im(x_rows @ w_col.T) + b                 x: (N, h, w, C) -> z: (N, H, W, F)

    It is the ADJOINT of the Conv2D with the same kernel, strides and padding (the one that maps
    (N, H, W, F) images back onto (N, h, w, C)): its forward is that convolution's dx, and its
    backward is that convolution's forward,

        dx = im2col(dz) @ w_col        dw_col = im2col(dz).T @ x_rows        db = sum of dz over N, H, W

    (``tinynet/core/ops/conv_transpose.py`` derives it). Each input pixel stamps the kernel, scaled by
    its value, onto the output at stride steps; overlapping stamps add up.

    Shapes (channels-last): kernel ``w: (kh, kw, F, C)`` with F = ``filters`` and C the input's
    channels, as Keras stores it (the kernel of the convolution it transposes); bias ``b: (F,)``.
    Output size per axis, as Keras: ``n * stride + max(k - stride, 0)`` ('valid'), ``n * stride``
    ('same'), or with ``output_padding`` ``(n - 1) * stride + k - 2 * (k // 2 if 'same' else 0) + output_padding``.
    Cache: the op's ``ConvTransposeCache`` (x and the kernel).
    """

    equation = "y = act(col2im(x @ w_col.T) + b)"

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, input_shape=None, **kwargs):
        super().__init__(input_shape=input_shape, **kwargs)
        check_data_format(data_format, self.name)
        if check_pair(dilation_rate, "dilation_rate") != (1, 1):
            raise ValueError(f"Layer '{self.name}': dilated transposed convolutions are not implemented in tinynet. "
                             f"Received: dilation_rate={dilation_rate!r} (only 1 or (1, 1) is supported).")
        self.filters = check_positive_int(filters, "filters")
        self.kernel_size = check_pair(kernel_size, "kernel_size")
        self.strides = check_pair(strides, "strides")
        self.padding = check_padding(padding)
        self.output_padding = self._check_output_padding(output_padding)
        self.activation = activations.get(activation, owner=self.name)
        self.use_bias = check_bool(use_bias, "use_bias")
        self.kernel_initializer = check_initializer(kernel_initializer, "kernel_initializer")
        self.bias_initializer = check_initializer(bias_initializer, "bias_initializer")
        (self.kernel_regularizer, self.bias_regularizer, self.activity_regularizer, self.kernel_constraint,
         self.bias_constraint) = check_weight_settings(kernel_regularizer, bias_regularizer, activity_regularizer,
                                                       kernel_constraint, bias_constraint)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # checks the input's rank
        kh, kw = self.kernel_size
        self.kernel = self.add_weight("kernel", (kh, kw, self.filters, input_shape[-1]), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"Layer '{self.name}' (Conv2DTranspose) expects images of shape (height, width, channels) "
                f"without the batch axis. Received: input_shape={tuple(input_shape)}")
        op = self.output_padding or (None, None)
        H, W = (conv_transpose_output_size(n, k, s, self.padding, p)
                for n, k, s, p in zip(input_shape[:2], self.kernel_size, self.strides, op))
        return H, W, self.filters

    def forward(self, x, training=False):
        b = self.bias.data if self.use_bias else None
        H, W, _ = self.compute_output_shape(x.shape[1:])
        # z = col2im(x_rows @ w_col.T) + b
        z, self.cache = conv2d_transpose_forward(x, self.kernel.data, b, (H, W), self.strides, self.padding)
        return z                                   # the activation runs after, as its own step

    def backward(self, dz):                       # dz: (N, H, W, F), from the activation's backward
        # dx = im2col(dz) @ w_col;  dw_col = im2col(dz).T @ x_rows;  db = sum of dz
        dx, dw, db = conv2d_transpose_backward(dz, self.cache, need_dx=self.needs_input_gradient)
        self.kernel.grad[...] = dw
        if self.use_bias:
            self.bias.grad[...] = db
        return dx

    # ----- checks and config ------------------------------------------------
    def _check_output_padding(self, output_padding):
        if output_padding is None:
            return None
        pair = (output_padding, output_padding) if is_int(output_padding) else output_padding
        try:
            pair = tuple(check_int(p, "output_padding", 0, owner=self.name) for p in pair)
        except TypeError:
            pair = ()
        if len(pair) != 2:
            raise invalid("output_padding", "a non-negative integer or a pair of them", output_padding, self.name)
        if any(p >= s for p, s in zip(pair, self.strides)):
            raise ValueError(f"Layer '{self.name}': strides must be greater than output padding. "
                             f"Received strides={self.strides}, output_padding={pair}")
        if self.padding == "same" and any(k % 2 == 0 and p == 0 for k, p in zip(self.kernel_size, pair)):
            # (n - 1) * stride + 0: a 'same' convolution maps it to n - 1 pixels, not back to n.
            raise ValueError(f"Layer '{self.name}': with padding='same', an even kernel_size={self.kernel_size} and "
                             f"output_padding=0 give an output that no convolution maps back to the input size. "
                             f"Use output_padding >= 1 on that axis, or no output_padding.")
        return pair

