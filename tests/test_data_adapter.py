"""tinynet.core.data_adapter: arrays, datasets, generators and Sequences as the epochs of (x, y, sample_weight)
batches fit will read, with Keras's rules; memory bounded by the batch for a generator of 10^6 samples."""
import math
import tracemalloc
import warnings

import numpy as np
import pytest

import tinynet
from tinynet import keras
from tinynet.core import data_adapter
from tinynet.core.data_adapter import EpochIterator, train_validation_split, unpack
from tinynet.data import Dataset
from tinynet.layers import Dense


def data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 3)).astype(np.float32), rng.integers(0, 3, n)


def epoch_of(iterator):
    return [batch for _, batch in iterator.epoch()]


class Batches(keras.utils.Sequence):
    """A Keras 2 style Sequence over arrays (no super().__init__(): older scripts skip it)."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size, self.epochs_ended = x, y, batch_size, 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]

    def on_epoch_end(self):
        self.epochs_ended += 1


# ---------------------------------------------------------------- arrays


def test_arrays_are_sliced_in_order_or_in_the_order_fit_draws():
    x, y = data(10)
    batches = epoch_of(EpochIterator(x, y, batch_size=4))
    assert [len(b[0]) for b in batches] == [4, 4, 2] and all(b[2] is None for b in batches)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x)
    tinynet.set_random_seed(5)
    shuffled = EpochIterator(x, y, batch_size=4, shuffle=True)
    first = epoch_of(shuffled)
    tinynet.set_random_seed(5)
    order = tinynet.utils.rng().permutation(10)                 # the same draw fit's own batching makes
    np.testing.assert_array_equal(np.concatenate([b[1] for b in first]), y[order])
    second = epoch_of(shuffled)
    assert not np.array_equal(np.concatenate([b[1] for b in second]), y[order])    # reshuffled each epoch


def test_several_inputs_and_outputs_are_sliced_together():
    x, y = data(7)
    iterator = EpochIterator({"image": x, "meta": y}, [y, x[:, 0]], batch_size=3)
    (xb, yb, _), *_ = epoch_of(iterator)
    assert set(xb) == {"image", "meta"} and isinstance(yb, list)
    np.testing.assert_array_equal(xb["meta"], y[:3])
    np.testing.assert_array_equal(yb[1], x[:3, 0])
    assert iterator.num_batches == 3
    as_lists = epoch_of(EpochIterator([[1.0, 2.0], [3.0, 4.0]], [0, 1], batch_size=1))   # lists of numbers: arrays
    np.testing.assert_array_equal(as_lists[1][0], [[3.0, 4.0]])
    with pytest.raises(ValueError, match=r"Data cardinality is ambiguous.*x sizes: \[7\], y sizes: \[5\]"):
        EpochIterator(x, y[:5])


def test_steps_per_epoch_with_arrays_takes_the_first_batches_of_each_epoch():
    x, y = data(100)
    iterator = EpochIterator(x, y, batch_size=10, steps_per_epoch=3)
    assert iterator.num_batches == 3
    for _ in range(2):
        np.testing.assert_array_equal(np.concatenate([b[1] for b in epoch_of(iterator)]), y[:30])


def test_class_weight_and_sample_weight_become_one_weight_per_sample():
    x, y = data(6)
    y = np.array([0, 1, 2, 0, 1, 2])
    (_, _, w), = epoch_of(EpochIterator(x, y, class_weight={0: 1.0, 2: 5.0}, batch_size=6))
    np.testing.assert_array_equal(w, [1, 1, 5, 1, 1, 5])                      # class 1 not listed: 1
    one_hot = np.eye(3)[y]
    (_, _, w), = epoch_of(EpochIterator(x, one_hot, sample_weight=np.arange(6), class_weight={2: 5.0}, batch_size=6))
    np.testing.assert_array_equal(w, [0, 1, 10, 3, 4, 25])                   # product, as tf.keras 2
    with pytest.raises(ValueError, match="only supported for Models with a single output"):
        EpochIterator(x, [y, y], class_weight={0: 2.0})
    with pytest.raises(ValueError, match=r"`sample_weight`, expected 6 finite non-negative numbers"):
        EpochIterator(x, y, sample_weight=[1, 2])


def test_validation_split_holds_out_the_last_samples_of_arrays_only():
    x, y = data(10)
    (xt, yt, wt), (xv, yv, wv) = train_validation_split(x, y, validation_split=0.2)
    np.testing.assert_array_equal(xt, x[:8])
    np.testing.assert_array_equal(yv, y[8:])
    assert wt is None and wv is None

    def generator():
        yield x, y

    with pytest.raises(ValueError, match=r"Argument `validation_split` is only supported for tensors or NumPy arrays."
                                         r" Found incompatible type in the input: \[<class 'generator'>\]"):
        train_validation_split(generator(), validation_split=0.2)
    with pytest.raises(ValueError, match="not sufficient to split it"):
        train_validation_split(x[:1], y[:1], validation_split=0.2)


# ---------------------------------------------------------------- datasets, generators, Sequences


def test_a_dataset_is_a_new_pass_each_epoch():
    x, y = data(10)
    train = Dataset.from_tensor_slices((x, y)).shuffle(10, seed=0).batch(4)
    iterator = EpochIterator(train, shuffle=True)                  # shuffle is the dataset's business
    assert iterator.kind == "dataset" and iterator.num_batches == 3
    first, second = epoch_of(iterator), epoch_of(iterator)
    assert [len(b[0]) for b in first] == [4, 4, 2] and first[0][2] is None
    assert not np.array_equal(first[0][1], second[0][1])
    unknown = EpochIterator(Dataset.from_generator(lambda: iter([(x, y), (x, y)])))
    assert unknown.num_batches is None
    epoch_of(unknown)
    assert unknown.num_batches == 2                                # learned from the first pass


def test_steps_per_epoch_goes_on_through_a_repeated_dataset():
    x, y = data(10)
    iterator = EpochIterator(Dataset.from_tensor_slices((x, y)).repeat().batch(4), steps_per_epoch=2)
    seen = [b[0] for _ in range(3) for b in epoch_of(iterator)]
    np.testing.assert_array_equal(np.concatenate(seen)[:24], np.concatenate([x, x, x])[:24])


def test_a_generator_is_read_across_epochs_and_never_restarted():
    x, y = data(50)

    def batches():
        for start in range(0, 50, 10):
            yield x[start:start + 10], y[start:start + 10]

    iterator = EpochIterator(batches(), steps_per_epoch=2)
    assert iterator.kind == "generator" and iterator.num_batches == 2
    first, second = epoch_of(iterator), epoch_of(iterator)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in first + second]), x[:40])
    with pytest.warns(UserWarning, match="Your input ran out of data; interrupting training"):
        third = epoch_of(iterator)
    assert len(third) == 1 and iterator.exhausted                  # fit stops here
    with pytest.warns(UserWarning, match="ran out of data"):
        assert epoch_of(iterator) == []


def test_a_sequence_is_indexed_each_epoch_then_told_the_epoch_ended():
    x, y = data(10)
    sequence = Batches(x, y, 4)
    iterator = EpochIterator(sequence)
    assert iterator.kind == "Sequence" and iterator.num_batches == 3
    np.testing.assert_array_equal(np.concatenate([b[0] for b in epoch_of(iterator)]), x)
    assert sequence.epochs_ended == 1
    shuffled = epoch_of(EpochIterator(sequence, shuffle=True, steps_per_epoch=2))   # Keras shuffles batch order
    assert len(shuffled) == 2 and sequence.epochs_ended == 2


def test_keras_rules_for_what_goes_with_a_dataset_generator_or_sequence():
    x, y = data(4)
    with pytest.raises(ValueError, match=r"When providing `x` as a dataset, `y` should not be passed. Instead, the "
                                         r"targets should be included as part of the dataset."):
        EpochIterator(Dataset.from_tensor_slices(x).batch(2), y)
    with pytest.raises(ValueError, match=r"`sample_weights` should not be passed"):
        EpochIterator(Batches(x, y, 2), sample_weight=np.ones(4))
    with pytest.raises(ValueError, match=r"Argument `class_weight` is not supported for Python generator inputs"):
        EpochIterator(iter([(x, y)]), class_weight={0: 2.0})
    (_, yb, w), = epoch_of(EpochIterator(Dataset.from_tensors((x, np.array([0, 1, 0, 1]))), class_weight={1: 3.0}))
    np.testing.assert_array_equal(w, [1, 3, 1, 3])                 # class_weight on a dataset's batches
    with pytest.raises(TypeError, match="Unrecognized data type: x=<object object"):
        EpochIterator(object())
    with pytest.raises(ValueError, match="samples on the first axis. Received: x=5"):
        EpochIterator(5)


def test_batches_come_as_x_or_x_y_or_x_y_w():
    x = np.ones((2, 3))
    assert unpack(x)[1:] == (None, None) and unpack((x,))[1:] == (None, None)
    assert unpack((x, 1))[1:] == (1, None) and unpack([x, 1, 2])[1:] == (1, 2)
    with pytest.raises(ValueError, match=r"`\(x, y, sample_weight\)`, found: a tuple of 4 items"):
        unpack((x, x, x, x))


def test_fit_evaluate_and_predict_take_a_generator_a_dataset_and_a_sequence_as_they_take_arrays():
    x, y = data(40)
    y = np.eye(3)[y]

    def make():
        tinynet.set_random_seed(0)
        model = tinynet.Sequential([Dense(5, activation="relu", input_shape=(3,)), Dense(3, activation="softmax")])
        model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
        return model

    by_arrays = make()
    history = by_arrays.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, validation_data=(x[:8], y[:8]))

    def generator():
        for _ in range(2):
            for start in range(0, 40, 8):
                yield x[start:start + 8], y[start:start + 8]

    by_generator = make()
    by_generator.fit(generator(), steps_per_epoch=5, epochs=2, verbose=0)
    by_dataset = make()
    dataset = Dataset.from_tensor_slices((x, y)).batch(8)
    other = by_dataset.fit(dataset, epochs=2, verbose=0,
                           validation_data=Dataset.from_tensor_slices((x[:8], y[:8])).batch(4))
    for model in (by_generator, by_dataset):
        for a, b in zip(by_arrays.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(other.history["val_loss"], history.history["val_loss"], rtol=1e-6)
    assert by_dataset.evaluate(dataset, verbose=0) == pytest.approx(by_arrays.evaluate(x, y, verbose=0), rel=1e-6)
    np.testing.assert_array_equal(by_dataset.predict(Dataset.from_tensor_slices(x).batch(7)), by_arrays.predict(x))
    with pytest.raises(ValueError, match="`validation_split` is only supported for NumPy arrays"):
        make().fit(generator(), validation_split=0.2, verbose=0)


# ---------------------------------------------------------------- what fit will do with it


def test_training_on_generator_batches_gives_the_weights_fit_gives_on_the_arrays():
    x, y = data(40)
    y = np.eye(3)[y]

    def make():
        tinynet.set_random_seed(0)
        model = tinynet.Sequential([Dense(5, activation="relu", input_shape=(3,)), Dense(3, activation="softmax")])
        model.compile("adam", "categorical_crossentropy")
        return model

    by_fit = make()
    by_fit.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)

    def batches():
        for _ in range(2):
            for start in range(0, 40, 8):
                yield x[start:start + 8], y[start:start + 8]

    by_batches = make()
    iterator = EpochIterator(batches(), steps_per_epoch=5)
    for _ in range(2):                                             # the loop fit will run
        for _, (xb, yb, _) in iterator.epoch():
            by_batches.train_on_batch(xb, yb)
    for a, b in zip(by_fit.get_weights(), by_batches.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_memory_is_bounded_by_the_batch_for_a_generator_of_a_million_samples():
    # 100 batches of 10^4 (the cost of a pass is per batch: tracemalloc watches every allocation)
    n, batch, features = 10 ** 6, 10 ** 4, 16
    batch_bytes = batch * features * 4                              # 640 kB; the whole data would be 64 MB

    def samples():
        for i in range(n // batch):                                 # a new batch each time, cheap to make
            yield np.full((batch, features), i / (n // batch), np.float32), np.arange(batch) % 10

    def run(data):
        count, total = 0, 0.0
        tracemalloc.start()
        for _, (xb, yb, _) in EpochIterator(data).epoch():
            count += len(xb)
            total += float(xb[0, 0])
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return count, peak

    count, peak = run(samples())
    assert count == n and peak < 4 * batch_bytes, f"peak {peak / 2 ** 20:.2f} MB"
    scaled = Dataset.from_generator(samples).map(lambda xb, yb: (xb * 2, yb)).prefetch(tinynet.data.AUTOTUNE)
    count, peak = run(scaled)
    assert count == n and peak < 6 * batch_bytes, f"peak {peak / 2 ** 20:.2f} MB"
    # and through fit itself: one epoch over the million samples holds about a batch at a time (a linear
    # regression: a softmax's row-wise reductions over 10^6 rows would take seconds)
    regression = ((xb, xb[:, :1]) for xb, _ in samples())
    model = tinynet.Sequential([Dense(1, input_shape=(features,))])
    model.compile("sgd", "mse")
    model.fit(((xb, xb[:, :1]) for xb, _ in samples()), steps_per_epoch=2, verbose=0)   # built, first allocations
    tracemalloc.start()
    history = model.fit(regression, verbose=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert np.isfinite(history.history["loss"][0]) and peak < 16 * batch_bytes, f"peak {peak / 2 ** 20:.2f} MB"
    assert next(regression, None) is None                         # the epoch read all 10^6 samples


def test_structures_are_told_apart_as_keras_does():
    assert data_adapter.is_nested([np.ones(2), np.ones(2)]) and not data_adapter.is_nested([[1, 2], [3, 4]])
    assert data_adapter.kind_of(Dataset.range(3)) == "dataset" and data_adapter.kind_of(iter([])) == "generator"
    assert data_adapter.kind_of(Batches(np.ones(2), np.ones(2), 1)) == "Sequence"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert data_adapter.kind_of({"a": np.ones(2)}) == "arrays"
