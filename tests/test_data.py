"""tinynet.data.Dataset (tf.data.Dataset with `import tinynet as tf`): pipelines as the tutorials write them,
yielding exactly the batches NumPy slicing gives."""
import numpy as np
import pytest

import tinynet as tf
from tinynet.data import AUTOTUNE, Dataset


def mnist_like(n=100, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def batches_of(dataset):
    return [tuple(np.asarray(part) for part in batch) for batch in dataset]


def test_from_tensor_slices_then_batch_is_numpy_slicing():
    x, y = mnist_like()
    batches = batches_of(tf.data.Dataset.from_tensor_slices((x, y)).batch(32))
    assert [len(b[0]) for b in batches] == [32, 32, 32, 4]
    for k, (xb, yb) in enumerate(batches):
        np.testing.assert_array_equal(xb, x[32 * k:32 * (k + 1)])
        np.testing.assert_array_equal(yb, y[32 * k:32 * (k + 1)])
    assert len(batches_of(Dataset.from_tensor_slices((x, y)).batch(32, drop_remainder=True))) == 3


def test_a_full_buffer_shuffle_is_one_permutation_per_epoch_then_numpy_slicing():
    x, y = mnist_like()
    train = Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=7).batch(32).prefetch(tf.data.AUTOTUNE)
    draws = np.random.default_rng(7)
    for epoch in range(2):                                   # a new order every epoch, from the seeded stream
        order = draws.permutation(len(x))
        for k, (xb, yb) in enumerate(train):
            np.testing.assert_array_equal(xb, x[order[32 * k:32 * (k + 1)]])
            np.testing.assert_array_equal(yb, y[order[32 * k:32 * (k + 1)]])
    fixed = Dataset.from_tensor_slices(y).shuffle(100, reshuffle_each_iteration=False)
    np.testing.assert_array_equal(np.array(list(fixed)), np.array(list(fixed)))


def test_a_small_buffer_shuffles_locally_as_tensorflow_defines_it():
    order = np.array(list(Dataset.range(1000).shuffle(10, seed=0)))
    assert sorted(order.tolist()) == list(range(1000)) and not np.array_equal(order, np.arange(1000))
    # output k is drawn from a buffer holding inputs up to k + 9: nothing comes out more than 9 places early
    assert (order <= np.arange(1000) + 9).all()


def test_shuffle_without_a_seed_follows_the_global_seed():
    ds = Dataset.range(50).shuffle(50)
    tf.random.set_seed(3)
    first = list(ds)
    tf.random.set_seed(3)
    assert list(ds) == first


def test_map_before_batch_is_per_element_and_after_batch_per_batch():
    x, y = mnist_like(10)
    calls = []

    def normalize(image, label):                              # the TFDS MNIST tutorial's function
        calls.append(image.shape)
        return tf.cast(image, tf.float32) / 255.0, label

    per_element = batches_of(Dataset.from_tensor_slices((x, y)).map(normalize, num_parallel_calls=AUTOTUNE).batch(4))
    assert calls == [(28, 28)] * 10
    calls.clear()
    per_batch = batches_of(Dataset.from_tensor_slices((x, y)).batch(4).map(normalize))
    assert calls == [(4, 28, 28), (4, 28, 28), (2, 28, 28)]
    for (a, la), (b, lb) in zip(per_element, per_batch):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
    np.testing.assert_allclose(np.concatenate([b[0] for b in per_batch]), x / np.float32(255))


def test_cache_runs_the_map_once_and_later_epochs_slice_arrays():
    x, y = mnist_like(40)
    calls = []

    def normalize(image, label):
        calls.append(1)
        return image.astype(np.float32) / 255, label

    train = Dataset.from_tensor_slices((x, y)).map(normalize).cache().shuffle(40, seed=1).batch(8)
    first, second = batches_of(train), batches_of(train)
    assert len(calls) == 40                                 # the second epoch replayed the cache
    label_of = {(image.astype(np.float32) / 255).tobytes(): label for image, label in zip(x, y)}
    for epoch in (first, second):                           # every image once, with its own label
        pairs = [(image.tobytes(), label) for xb, yb in epoch for image, label in zip(xb, yb)]
        assert len(pairs) == 40 and {p for p, _ in pairs} == set(label_of)
        assert all(label_of[image] == label for image, label in pairs)
    assert not np.array_equal(first[0][1], second[0][1])    # reshuffled
    assert train.source.source.rows() is not None           # the cache now serves rows: the fast path


def test_take_skip_repeat_and_lengths():
    ds = Dataset.range(10)
    assert [int(v) for v in ds.skip(3).take(4)] == [3, 4, 5, 6]
    assert [b.tolist() for b in ds.repeat(2).batch(8)] == [list(range(8)), [8, 9, 0, 1, 2, 3, 4, 5], [6, 7, 8, 9]]
    assert [b.tolist() for b in ds.batch(8).repeat(2)] == [list(range(8)), [8, 9]] * 2
    assert len(ds) == 10 and len(ds.batch(3)) == 4 and len(ds.batch(3, drop_remainder=True)) == 3
    assert len(ds.repeat(3)) == 30 and len(ds.take(4)) == 4 and len(ds.skip(4)) == 6
    assert ds.repeat().cardinality() == tf.data.INFINITE_CARDINALITY
    assert ds.filter(lambda v: v % 2 == 0).cardinality() == tf.data.UNKNOWN_CARDINALITY
    assert len(ds.repeat().take(25).batch(10)) == 3
    with pytest.raises(TypeError, match="The dataset is infinite."):
        len(ds.repeat())
    with pytest.raises(TypeError, match="The dataset length is unknown."):
        len(ds.filter(lambda v: v > 2))
    assert [int(v) for v in ds.filter(lambda v: v % 3 == 0)] == [0, 3, 6, 9]


def test_elements_and_structures():
    x, y = mnist_like(6)
    image, label = next(iter(Dataset.from_tensor_slices((x, y))))
    assert image.shape == (28, 28) and label == y[0]
    pairs = Dataset.from_tensor_slices({"image": x, "label": y}).batch(4)
    first = next(iter(pairs))
    assert set(first) == {"image", "label"} and first["image"].shape == (4, 28, 28)
    assert [int(v) for v in Dataset.from_tensor_slices([3, 1, 2])] == [3, 1, 2]          # a list is one array
    assert [e.shape for e in Dataset.from_tensors(x)] == [(6, 28, 28)]
    zipped = Dataset.zip((Dataset.from_tensor_slices(x), Dataset.from_tensor_slices(y))).batch(6)
    np.testing.assert_array_equal(next(iter(zipped))[1], y)
    assert [(int(i), int(v)) for i, v in Dataset.range(3).enumerate(start=1)] == [(1, 0), (2, 1), (3, 2)]
    unbatched = Dataset.from_tensor_slices((x, y)).batch(4).unbatch()
    np.testing.assert_array_equal(np.stack([e[0] for e in unbatched]), x)
    np.testing.assert_array_equal(list(Dataset.range(2).concatenate(Dataset.range(3))), [0, 1, 0, 1, 2])
    assert list(Dataset.range(3).as_numpy_iterator()) == [0, 1, 2]


def test_from_generator_is_called_again_for_each_pass_and_read_lazily():
    produced = []

    def samples():
        for i in range(10):
            produced.append(i)
            yield np.full(3, i, np.float32), i % 2

    ds = tf.data.Dataset.from_generator(samples, output_signature=None).batch(4)
    first = next(iter(ds))
    assert produced == [0, 1, 2, 3]                          # one batch read, no more
    np.testing.assert_array_equal(first[1], [0, 1, 0, 1])
    assert [b[0].shape for b in ds] == [(4, 3), (4, 3), (2, 3)]
    assert [b[0].shape for b in ds] == [(4, 3), (4, 3), (2, 3)]           # a second pass calls samples() again
    assert ds.cardinality() == tf.data.UNKNOWN_CARDINALITY


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="the same number of rows"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError, match="`generator`, expected a function returning a generator"):
        Dataset.from_generator(iter([1, 2]))
    with pytest.raises(ValueError, match="caching to a file is not implemented"):
        Dataset.range(3).cache("/tmp/cache")
    with pytest.raises(ValueError, match="`batch_size`, expected a positive integer"):
        Dataset.range(3).batch(0)
    with pytest.raises(ValueError, match="`buffer_size`"):
        Dataset.range(3).shuffle(0)
    assert tf.data.experimental.AUTOTUNE == tf.data.AUTOTUNE
