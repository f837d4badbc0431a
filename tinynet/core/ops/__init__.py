"""Pure numeric functions with no state, called by the layers and losses; and the one op chooser.

Every op exists twice, with the same signature and the same return values:

    reference   the textbook version: it reads as the math (files conv.py, pooling.py,
                normalization.py, linear.py), and the tests check it against the definitions
    fast        the same op with speed tricks (the fast ring, ``tinynet/fast/``: conv.py, pooling.py,
                normalization.py, linear.py), each trick under a ``# NOTE:`` saying what it buys;
                the tests check it against the reference

A layer never picks one itself. It calls ``self.ops.<op>(...)``, where ``Layer.ops`` is
``ops.get(self.impl)``: ``impl='fast'`` (the default) gives the fast ops, ``impl='naive'`` the
references. Adding an op pair is one call, in the module that defines the fast one::

    ops.register("conv2d_forward", reference=conv.conv2d_forward, fast=conv2d_forward)

An op with no trick worth having registers its reference as both (``fast=None``).

Notation in every docstring: images ``x: (N, H, W, C)``; a conv kernel ``w: (kh, kw, C, F)``
(F filters, filter index ``f``) and ``w_col = w.reshape(kh*kw*C, F)``; output pixel ``(i, j)``,
kernel offset ``(di, dj)``, channel ``c``; ``@`` is the matrix product, ``*`` elementwise.

softmax.py        stable softmax / log-softmax (one version: nothing to speed up)
linear.py         sum over rows (Dense's and Conv2D's db)
conv.py           im2col / col2im, conv2d forward / backward; output sizes, 'same' padding
checks.py         the ops' argument checks (padding, image and kernel shapes, dout's shape)
pooling.py        max / average / global-average / global-max pooling forward and backward
normalization.py  batch normalization forward (training / inference) and backward; layer normalization
conv_transpose.py the transposed convolution (conv2d's adjoint) and Keras's output sizes for it
image.py          sampling images at moved coordinates (bilinear / nearest, Keras's fill modes) and its
                  transpose: the random rotations, shifts and zooms, bilinear upsampling and resizing
math.py           differentiable ops on tensors (keras.ops), each forward beside its vector-Jacobian product
"""
import contextvars

from ..checks import check_choice

IMPLS = ("fast", "naive")

_REGISTRY = {"fast": {}, "naive": {}}
# The seam the learner's tools watch through (``watching``): None while nobody watches.
_watcher = contextvars.ContextVar("tinynet_op_watcher", default=None)


def register(name, reference, fast=None):
    """Make ``reference`` the op ``name`` for impl='naive' and ``fast`` (or ``reference``) for 'fast'.

    Both must take the same arguments and return the same values (the tests compare them).
    Registering a name again replaces it.
    """
    _REGISTRY["naive"][name] = reference
    _REGISTRY["fast"][name] = reference if fast is None else fast


class OpSet:
    """The ops of one impl, as attributes: ``ops.get('fast').conv2d_forward(...)``."""

    def __init__(self, impl):
        self.impl = impl

    def __getattr__(self, name):
        try:
            op = _REGISTRY[self.impl][name]
        except KeyError:
            raise AttributeError(f"No op named {name!r}; registered: {sorted(_REGISTRY[self.impl])}") from None
        watcher = _watcher.get()
        return op if watcher is None else watcher(name, self.impl, op)

    def __repr__(self):
        return f"<ops impl={self.impl!r}>"


_SETS = {impl: OpSet(impl) for impl in IMPLS}


class watching:
    """``with ops.watching(wrap):`` every op a layer looks up is ``wrap(name, impl, op)`` instead of ``op``.

    The trace (``tinynet/tools/trace.py``) wraps the ops to see what each returned and whether a fast
    twin ran; the layers look their ops up as always and never know.
    """

    def __init__(self, wrap):
        self.wrap = wrap

    def __enter__(self):
        self._token = _watcher.set(self.wrap)
        return self

    def __exit__(self, *exc):
        _watcher.reset(self._token)
        return False


def is_fast_twin(name, op):
    """Whether ``op`` is op ``name``'s fast twin rather than its textbook reference."""
    return op is not _REGISTRY["naive"].get(name)


def check_impl(impl, owner=None):
    """``impl`` if it is 'fast' or 'naive' (the textbook references), else a ValueError."""
    return check_choice(impl, "impl", IMPLS, owner)


def get(impl):
    """The ops of ``impl``: 'fast' (the default everywhere) or 'naive' (the references)."""
    found = _SETS.get(impl) if isinstance(impl, str) else None
    return found if found is not None else _SETS[check_impl(impl)]


from . import conv, conv_transpose, image, linear, normalization, pooling  # noqa: E402
from .softmax import log_softmax, softmax  # noqa: E402

# The textbook ops, under the names layers call them by. The fast ring (``tinynet.fast``, imported
# by ``import tinynet``) registers a twin for some of them; until it does, 'fast' gives these.
for _name, _reference in {
        "im2col": conv.im2col, "col2im": conv.col2im,
        "conv2d_forward": conv.conv2d_forward, "conv2d_backward": conv.conv2d_backward,
        "maxpool2d_forward": pooling.maxpool2d_forward, "maxpool2d_backward": pooling.maxpool2d_backward,
        "maxpool2d_argmax": pooling.maxpool2d_argmax,
        "avgpool2d_forward": pooling.avgpool2d_forward, "avgpool2d_backward": pooling.avgpool2d_backward,
        "global_avgpool2d_forward": pooling.global_avgpool2d_forward,
        "global_avgpool2d_backward": pooling.global_avgpool2d_backward,
        "global_maxpool2d_forward": pooling.global_maxpool2d_forward,
        "global_maxpool2d_backward": pooling.global_maxpool2d_backward,
        "batch_norm_forward": normalization.batch_norm_forward,
        "batch_norm_backward": normalization.batch_norm_backward,
        "batch_norm_inference": normalization.batch_norm_inference,
        "batch_norm_inference_backward": normalization.batch_norm_inference_backward,
        "sum_rows": linear.sum_rows,
        "warp": image.warp, "warp_backward": image.warp_backward, "resize": image.resize}.items():
    register(_name, reference=_reference)

__all__ = ["get", "register", "watching", "is_fast_twin", "check_impl", "IMPLS",
           "softmax", "log_softmax", "conv", "conv_transpose", "image",
           "pooling", "normalization", "linear"]
