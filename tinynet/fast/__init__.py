"""The speed ring: fast twins of the core's ops, each with the signature of its textbook reference.

Importing this package registers every twin: the ops' in the op registry (``tinynet/core/ops/__init__.py``),
the optimizer rules' with ``tinynet.core.optimizers.register_fast_rule`` (and ``register_fast_step``);
``tinynet/__init__.py`` is the only module that imports it. A layer never knows which ran: it calls
``self.ops.<op>``, and ``impl='naive'`` gives the references. The tests compare each twin with its
reference on random shapes and settings.

    linear.py          sum_rows over rows folded to 512-1024 values
    conv.py            im2col with the bias column (one-channel columns built transposed), products cut
                       by image, dx by one small product per kernel offset added onto the part of dx it reaches
    pooling.py         max / average pooling on strided views; max pooling's backward and argmax from the
                       forward's running maxima
    normalization.py   batch normalization with one pass per statistic
    augment.py         the image sampling op (random rotations, shifts, zooms; resizing) with float32
                       coordinates, a one-channel read, and each resize's points planned once per shape
    optimizers.py      SGD's, RMSprop's and Adam's rules a block at a time, into the arrays the last step freed
    optimizer_step.py  the same rules over all the parameters at once, kept in flat buffers
"""
from . import augment, conv, linear, normalization, optimizer_step, optimizers, pooling  # noqa: F401
