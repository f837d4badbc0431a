"""The textbook core: what a learner reads. It imports nothing outside itself.

    layers/        Parameter and Layer, then each layer as its equations (forward, backward)
    ops/           the reference ops (im2col, pooling, batch norm), pure functions; the op registry
    models/        Model (compile, the training step, fit / evaluate / predict) and Sequential
    losses.py      losses, each with its gradient
    optimizers/    the update rules (sgd_rmsprop_adam.py, more.py), the step around them, schedules
    initializers.py, regularizers.py, constraints.py
    callbacks/     History, the progress bar and the callbacks fit itself needs; metrics/: accuracy ...
    checks.py, validation.py, guards.py   argument checks and the training guard
"""
