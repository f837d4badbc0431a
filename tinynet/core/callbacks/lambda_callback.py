"""``LambdaCallback``: a callback made of plain functions."""
from ..checks import invalid
from .base import Callback

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin",
          "on_test_batch_end", "on_predict_begin", "on_predict_end", "on_predict_batch_begin",
          "on_predict_batch_end")


class LambdaCallback(Callback):
    """Calls the functions you give at the hooks they are named after, as Keras's does:

        print_epoch = LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))

    ``on_epoch_begin`` / ``on_epoch_end`` take ``(epoch, logs)``; ``on_batch_begin`` /
    ``on_batch_end`` (and the ``on_train_batch_*`` ones) take ``(batch, logs)``;
    ``on_train_begin`` / ``on_train_end`` take ``(logs)``.
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_batch_begin=on_batch_begin,
                     on_batch_end=on_batch_end, on_train_begin=on_train_begin, on_train_end=on_train_end, **kwargs)
        for hook, function in given.items():
            if hook not in _HOOKS:
                raise TypeError(f"LambdaCallback got an unknown hook {hook!r}. Known hooks: {', '.join(_HOOKS)}")
            if function is None:
                continue
            if not callable(function):
                raise invalid(hook, "a function", function, "LambdaCallback", error=TypeError)
            # An instance attribute hides the base class's do-nothing method of the same name.
            setattr(self, hook, function)
