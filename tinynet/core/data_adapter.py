"""What ``fit`` / ``evaluate`` / ``predict`` accept, turned into batches of ``(x, y, sample_weight)``.

The training loop reads one thing, an epoch iterator::

    data = EpochIterator(x, y, sample_weight, batch_size=32, steps_per_epoch=None, shuffle=True, class_weight=None)
    for epoch in range(epochs):
        for step, (x_batch, y_batch, w_batch) in data.epoch():
            ...                            # w_batch is None when nothing weights the samples
        if data.exhausted:                 # a generator ran out: no epoch can follow
            break

It accepts, told apart by what the object can do (so the core imports nothing from the Keras ring):

    arrays      a NumPy array, or a list / tuple / dict of them (one per input or output of the model), for
                x, y and sample_weight. Each epoch slices them into batches, in a new random order when
                ``shuffle``; ``class_weight`` becomes a weight per sample.
    a Sequence  anything with ``len(seq)`` and ``seq[i]``, batch i (``keras.utils.Sequence`` / ``PyDataset``,
                ``ImageDataGenerator.flow(...)``). An epoch is its batches in order (in a random order when
                ``shuffle``, as Keras), then ``seq.on_epoch_end()``.
    a dataset   anything iterable again (``iter(ds)`` starts over): ``tinynet.data.Dataset``. Each epoch is a
                new pass; ``shuffle`` is ignored (a dataset shuffles itself: ``.shuffle(n)``).
    a generator a Python generator, or any iterator: one pass, read batch by batch across the epochs and
                never restarted, so memory holds one batch at a time however long it runs.

A dataset, generator or Sequence yields each batch as ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``,
as in Keras; ``y`` and ``sample_weight`` may then not be passed separately (Keras's message says so).

``steps_per_epoch``: with arrays or a Sequence, an epoch stops after that many batches and the next one
starts over (reshuffled). With a dataset or a generator, the next epoch goes on where the last one stopped
(Keras 3's rule), which is how a dataset ``.repeat()``-ed forever or an endless generator is cut into epochs;
when the data runs out first, Keras's warning says so, and a generator, which cannot start over, is then
``exhausted``.
"""
import math
import numbers
import warnings

import numpy as np

from .checks import check_bool, check_int, check_steps, invalid
from .utils import rng

ARRAY, SEQUENCE, DATASET, GENERATOR = "arrays", "Sequence", "dataset", "generator"

RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your dataset or generator can generate "
           "at least `steps_per_epoch * epochs` batches. You may need to use the `.repeat()` function when building "
           "your dataset.")


# ----- structures: an array, or a list / tuple / dict of them ------------------------------------------
def is_array(value):
    """One array: a NumPy array, or anything NumPy converts to one (``__array__``: pandas, h5py)."""
    return isinstance(value, (np.ndarray, np.generic)) or (hasattr(value, "__array__") and not isinstance(value, type))


def is_numbers(value):
    """A number, or a (nested) list of numbers: one array, as ``np.asarray`` reads it."""
    if isinstance(value, numbers.Number):
        return True
    return isinstance(value, (list, tuple)) and all(is_numbers(v) for v in value)


def is_nested(value):
    """Several arrays (one per input or output: a dict, or a list / tuple that is not just numbers) rather than one."""
    return isinstance(value, dict) or (isinstance(value, (list, tuple)) and not is_numbers(value))


def is_array_structure(value):
    """An array, numbers, or a non-empty list / tuple / dict of array structures: data that is sliced into batches."""
    if is_array(value) or is_numbers(value):
        return True
    items = list(value.values()) if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else []
    return bool(items) and all(is_array_structure(v) for v in items)


def map_structure(function, value):
    """``function`` applied to every array of ``value``, keeping its lists, tuples and dicts (None stays None)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {key: map_structure(function, v) for key, v in value.items()}
    if is_nested(value):
        return type(value)(map_structure(function, v) for v in value)
    return function(value)


def flatten(value):
    """The arrays of a structure, in order ([] for None)."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [a for v in value.values() for a in flatten(v)]
    if is_nested(value):
        return [a for v in value for a in flatten(v)]
    return [value]


def as_arrays(value):
    """Every leaf of a structure as a NumPy array (no copy for arrays)."""
    return map_structure(np.asarray, value)


def unpack(batch):
    """``(x, y, sample_weight)`` from a batch given as ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``
    (a list counts as a tuple, as in Keras)."""
    if isinstance(batch, list) and is_nested(batch):
        batch = tuple(batch)
    if not isinstance(batch, tuple) or is_numbers(batch):
        return batch, None, None
    if len(batch) in (1, 2, 3):
        return tuple(batch) + (None,) * (3 - len(batch))
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, found: "
                     f"a tuple of {len(batch)} items")


def kind_of(x):
    """Which of the four kinds of data ``x`` is (see the module docstring), or a TypeError naming it."""
    if is_array_structure(x):
        return ARRAY
    if hasattr(x, "__getitem__") and hasattr(x, "__len__") and not isinstance(x, (str, bytes)):
        return SEQUENCE
    if hasattr(x, "__next__"):
        return GENERATOR
    if hasattr(x, "__iter__") and not isinstance(x, (str, bytes)):
        return DATASET
    raise TypeError(f"Unrecognized data type: x={_short(x)} (of type {type(x).__name__}). Expected a NumPy array (or a "
                    "list / dict of them), a tinynet.data.Dataset, a Python generator or a keras.utils.Sequence.")


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ----- weights -----------------------------------------------------------------------------------------
def class_weights_to_sample_weights(y, class_weight):
    """One weight per sample, ``class_weight[label]`` (1 for a class not listed), as Keras computes it: the label
    is ``argmax(y)`` for one-hot targets, ``round(y)`` for integer ones."""
    if not isinstance(class_weight, dict):
        raise invalid("class_weight", "a dict {class index: weight}", class_weight)
    if is_nested(y):
        raise ValueError("`class_weight` is only supported for Models with a single output.")
    for label, weight in class_weight.items():
        if not (isinstance(label, (int, np.integer)) and label >= 0) or not (
                isinstance(weight, numbers.Real) and math.isfinite(weight) and weight >= 0):
            raise invalid("class_weight", "a dict {class index: non-negative weight}",
                          {label: weight})
    y = np.asarray(y)
    if y.ndim > 1:
        y = y.argmax(axis=-1) if y.shape[-1] != 1 else y.reshape(y.shape[:-1])
    labels = np.round(y).astype(np.int64).reshape(len(y))
    table = np.ones(max(int(labels.max(initial=0)), max(class_weight, default=0)) + 1)
    for label, weight in class_weight.items():
        table[label] = weight
    return table[np.clip(labels, 0, None)]


def check_sample_weight(sample_weight, n, argument="sample_weight"):
    """``sample_weight`` as n finite non-negative float64 numbers, one per sample."""
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.shape in ((n, 1),):
        weights = weights.reshape(n)
    if weights.shape != (n,) or not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError(f"Received an invalid value for `{argument}`, expected {n} finite non-negative numbers, one "
                         f"per sample. Received: an array of shape {np.shape(sample_weight)}")
    return weights


def sample_weights(y, sample_weight, class_weight, n):
    """The weights of n samples: ``sample_weight``, times ``class_weight[label]`` when both are given (tf.keras 2's
    rule; Keras 3 refuses the pair), or None when neither is."""
    weights = None if sample_weight is None else check_sample_weight(sample_weight, n)
    if class_weight is not None:
        per_class = class_weights_to_sample_weights(y, class_weight)
        weights = per_class if weights is None else weights * per_class
    return weights


# ----- validation_split ----------------------------------------------------------------------------------
def train_validation_split(x, y=None, sample_weight=None, validation_split=0.0):
    """``((x, y, w), (x_val, y_val, w_val))``: the LAST ``validation_split`` of the samples held out, before any
    shuffling, as Keras does. Only arrays can be split: a dataset, generator or Sequence is refused with Keras's
    message (give ``validation_data=`` instead)."""
    unsplitable = [type(v) for v in (x, y, sample_weight) if v is not None and not is_array_structure(v)]
    if unsplitable:
        raise ValueError("Argument `validation_split` is only supported for tensors or NumPy arrays. Found "
                         f"incompatible type in the input: {unsplitable}")
    n = _length(x)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"Training data contains {n} samples, which is not sufficient to split it into a "
                         f"validation and training set as specified by `validation_split={validation_split}`. "
                         "Either provide more data, or a different value for the `validation_split` argument.")

    def part(value, rows):
        return map_structure(lambda a: np.asarray(a)[rows], value)

    train, held_out = slice(0, split_at), slice(split_at, n)
    return ((part(x, train), part(y, train), part(sample_weight, train)),
            (part(x, held_out), part(y, held_out), part(sample_weight, held_out)))


def unpack_validation_data(validation_data):
    """``(x, y, sample_weight)`` of ``fit``'s ``validation_data``: a tuple ``(x_val, y_val[, w_val])`` of arrays,
    or a dataset, generator or Sequence (which yields its own batches)."""
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3) and all(
            v is None or is_array_structure(v) for v in validation_data):
        return tuple(validation_data) + (None,) * (3 - len(validation_data))
    if is_array_structure(validation_data):
        raise ValueError("Received an invalid value for `validation_data`, expected a tuple (x_val, y_val) or "
                         "(x_val, y_val, sample_weight_val), a dataset, a generator or a Sequence. Received: "
                         f"{_short(validation_data)}")
    return validation_data, None, None


def _length(value):
    return len(flatten(as_arrays(value))[0])


# ----- the epoch iterator ----------------------------------------------------------------------------------
class EpochIterator:
    """Batches ``(x, y, sample_weight)`` epoch after epoch, from any of the four kinds of data.

    ``num_batches``: the batches of an epoch when known (None for a generator or a dataset of unknown
    length, until one pass has counted them). ``exhausted``: a generator has run out; no epoch can follow.
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None, shuffle=False,
                 class_weight=None):
        self.kind = kind_of(x)
        self.steps_per_epoch = None if steps_per_epoch is None else check_steps(steps_per_epoch, "steps_per_epoch")
        self.shuffle = check_bool(shuffle, "shuffle")
        self.exhausted = False
        self._iterator = None             # a dataset's or generator's pass, kept across epochs
        if self.kind == ARRAY:
            self._init_arrays(x, y, sample_weight, batch_size, class_weight)
            return
        for argument, value, description in (("y", y, "the targets"), ("sample_weights", sample_weight,
                                                                         "the sample weights")):
            if value is not None:
                raise ValueError(f"When providing `x` as a {self.kind}, `{argument}` should not be passed. Instead, "
                                 f"{description} should be included as part of the {self.kind}.")
        if self.kind == GENERATOR and class_weight is not None:
            raise ValueError(f"Argument `class_weight` is not supported for Python generator inputs. "
                             f"Received: class_weight={class_weight}")
        self.data, self.class_weight = x, class_weight
        if self.kind == SEQUENCE:
            self._count = len(x)
        else:
            self._count = self._dataset_length(x) if self.kind == DATASET else None

    def _init_arrays(self, x, y, sample_weight, batch_size, class_weight):
        self.batch_size = 32 if batch_size is None else check_int(batch_size, "batch_size", 1)
        x, y = as_arrays(x), as_arrays(y)
        for name, value in (("x", x), ("y", y)):
            if any(a.ndim == 0 for a in flatten(value)):
                raise ValueError(f"`{name}` must hold arrays of samples, the samples on the first axis. Received: "
                                 f"{name}={_short(value.tolist() if isinstance(value, np.ndarray) else value)}")
        sizes = {name: [len(a) for a in flatten(value)] for name, value in (("x", x), ("y", y)) if value is not None}
        n = sizes["x"][0]
        if n == 0:
            raise ValueError(f"`x` is empty: expected at least one sample. Received an array of shape "
                             f"{flatten(x)[0].shape}")
        if any(size != n for each in sizes.values() for size in each):
            raise ValueError("Data cardinality is ambiguous: make sure all arrays contain the same number of samples. "
                             f"Received: {', '.join(f'{name} sizes: {each}' for name, each in sizes.items())}")
        if class_weight is not None and y is None:
            raise ValueError("`class_weight` needs the targets `y`: the weight of a sample is its class's.")
        self.data, self.n = (x, y), n
        self.weights = sample_weights(y, sample_weight, class_weight, n)
        self._count = math.ceil(n / self.batch_size)

    @staticmethod
    def _dataset_length(dataset):
        """len(dataset) when it is finite and known, else None (``len`` of an infinite dataset raises)."""
        try:
            return len(dataset)
        except TypeError:
            return None

    @property
    def num_batches(self):
        if self.steps_per_epoch is None:
            return self._count
        if self.kind in (ARRAY, SEQUENCE):
            return min(self._count, self.steps_per_epoch)
        return self.steps_per_epoch

    def epoch(self):
        """One epoch's ``(step, (x, y, sample_weight))`` pairs."""
        if self.kind == ARRAY:
            return self._array_epoch()
        if self.kind == SEQUENCE:
            return self._sequence_epoch()
        return self._stream_epoch()

    def _array_epoch(self):
        (x, y), n, b = self.data, self.n, self.batch_size
        order = rng().permutation(n) if self.shuffle else None       # the same draws as fit's own batching
        stop = n if self.steps_per_epoch is None else min(n, self.steps_per_epoch * b)
        for step, start in enumerate(range(0, stop, b)):
            rows = slice(start, start + b) if order is None else order[start:start + b]
            w = None if self.weights is None else self.weights[rows]
            yield step, (map_structure(lambda a: a[rows], x), map_structure(lambda a: a[rows], y), w)

    def _sequence_epoch(self):
        sequence = self.data
        if hasattr(sequence, "on_epoch_begin"):
            sequence.on_epoch_begin()
        order = rng().permutation(self._count) if self.shuffle else range(self._count)
        for step, index in enumerate(order):
            if step == self.steps_per_epoch:
                break
            yield step, self._batch(sequence[int(index)])
        if hasattr(sequence, "on_epoch_end"):
            sequence.on_epoch_end()

    def _stream_epoch(self):
        """A dataset's or a generator's batches. Without steps_per_epoch an epoch is one whole pass; with it, the
        pass goes on across epochs (``iter`` of a generator is the generator itself: it never starts over)."""
        if self.exhausted:                          # asked for another epoch of a generator that has run out
            warnings.warn(RAN_OUT, stacklevel=3)
            return
        if self._iterator is None or self.steps_per_epoch is None:
            self._iterator = iter(self.data)
        step = 0
        while self.steps_per_epoch is None or step < self.steps_per_epoch:
            try:
                batch = next(self._iterator)
            except StopIteration:
                self._iterator = None
                self.exhausted = self.kind == GENERATOR
                if self.steps_per_epoch is not None:      # fewer batches than asked for
                    warnings.warn(RAN_OUT, stacklevel=3)
                elif self.kind == DATASET:
                    self._count = step                     # a whole pass: now the epoch's length is known
                return
            yield step, self._batch(batch)
            step += 1

    def _batch(self, batch):
        x, y, w = (as_arrays(part) for part in unpack(batch))
        if self.class_weight is not None:
            if y is None:
                raise ValueError("`class_weight` needs the targets: the batches must be (x, y) or (x, y, "
                                 "sample_weight).")
            per_class = class_weights_to_sample_weights(y, self.class_weight)
            w = per_class if w is None else check_sample_weight(w, len(per_class)) * per_class
        return x, y, w
