"""The structures of a model's inputs and outputs: one array or tensor, a list, or a dict by name.

``fit`` and the training step keep every input and output as a list, one entry per input (output)
of the model; these helpers turn what the user gave into that form and back.
"""
from ..checks import short_repr
from ..data_adapter import unpack_validation_data
from ..tensor import Tensor


def as_array(x):
    return x[0] if isinstance(x, list) and len(x) == 1 else x


def as_inputs(x):
    """What the model is called on: one array, or a list of them (one per input)."""
    if isinstance(x, list):
        return x[0] if len(x) == 1 else x
    return x


def flat(value):
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def values_of(value):
    if isinstance(value, (list, tuple)):
        return [values_of(v) for v in value]
    if isinstance(value, dict):
        return {k: values_of(v) for k, v in value.items()}
    return value.value if isinstance(value, Tensor) else value


def validation_parts(validation_data):
    """``(x, y, sample_weight)`` of ``validation_data``: a tuple of arrays, or a dataset / generator as it is."""
    return unpack_validation_data(validation_data)


def take(arrays, index):
    return None if arrays is None else [None if a is None else a[index] for a in arrays]


def shapes_of(shape):
    if shape is None:
        return []
    if isinstance(shape, list):
        return [s for s in shape if isinstance(s, tuple)]
    return [shape]


def by_names(value, names, argument):
    """``value`` (an array, a list or a dict by name) as a list with one entry per name, in order."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"`{argument}` has the key(s) {unknown}, but the model's names are {names}.")
        missing = [name for name in names if name not in value]
        if missing:
            raise ValueError(f"`{argument}` has no entry for {missing} (the model's names are {names}).")
        return [value[name] for name in names]
    if isinstance(value, (list, tuple)) and len(names) > 1:
        if len(value) != len(names):
            raise ValueError(f"`{argument}` is a list of {len(value)} arrays, but the model has {len(names)}: "
                             f"{names}.")
        return list(value)
    return [value]


def one_per_output(spec, names, argument, default=None):
    """A compile argument (one value, a list or a dict by output name) as one entry per output."""
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(f"compile: `{argument}` names {short_repr(unknown)}, which are not outputs of the model "
                             f"{short_repr(names)}.")
        return [spec.get(name, default) for name in names]
    if isinstance(spec, (list, tuple)) and argument != "metrics":
        if len(spec) != len(names):
            raise ValueError(f"compile: `{argument}` is a list of {len(spec)}, but the model has {len(names)} "
                             f"outputs {short_repr(names)}.")
        return list(spec)
    return [spec if spec is not None else default] * len(names)


def per_output_metrics(metrics, names):
    """``compile(metrics=...)`` as one list of metrics per output: a list applies to every output, a list of
    lists gives each output its own, a dict names them by output."""
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, dict):
        unknown = sorted(set(metrics) - set(names))
        if unknown:
            raise ValueError(f"compile: `metrics` names {short_repr(unknown)}, which are not outputs of the model "
                             f"{short_repr(names)}.")
        return [as_list(metrics.get(name)) for name in names]
    if metrics and all(isinstance(m, (list, tuple)) for m in metrics) and len(metrics) == len(names):
        return [list(m) for m in metrics]
    return [list(metrics) for _ in names]


def as_list(value):
    return [] if value is None else ([value] if isinstance(value, str) or not isinstance(value, (list, tuple))
                                     else list(value))
