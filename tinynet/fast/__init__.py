"""The speed ring: fast twins of the core's ops, each with the signature of its textbook reference.

Importing this package registers every twin in the op registry (``tinynet/core/ops/__init__.py``);
``tinynet/__init__.py`` is the only module that imports it. A layer never knows which ran: it calls
``self.ops.<op>``, and ``impl='naive'`` gives the references. The tests compare each twin with its
reference on random shapes and settings.

    linear.py          sum_rows over rows folded to 512-1024 values
    conv.py            im2col with the bias column (one-channel columns built transposed), products cut
                       by image, dx by one small product per kernel offset
    pooling.py         max / average pooling on strided views
    normalization.py   batch normalization with one pass per statistic
    fused.py           batch norm -> ReLU -> max-pool as one op (pool first)
    fused_block.py     where a model runs those three layers as one step
    optimizers.py      the optimizers' update rules, fused and in place
"""
from . import conv, fused, linear, normalization, pooling  # noqa: F401
