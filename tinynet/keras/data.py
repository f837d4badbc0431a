"""``tf.data`` as tutorials use it, on NumPy: ``tinynet.data.Dataset`` (``tf.data.Dataset`` after ``import tinynet as tf``).

    train = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10000).batch(128).prefetch(tf.data.AUTOTUNE)
    model.fit(train, epochs=5)

A dataset is a recipe, not data: each method returns a new dataset that remembers its source and one
step; nothing is computed until it is iterated, and each iteration (each epoch) runs the recipe again,
so ``shuffle`` gives a new order every epoch. Elements are NumPy arrays, or tuples / dicts of them
(the structure given to ``from_tensor_slices``); after ``batch(b)``, each element is a batch.
There are no threads: ``prefetch`` and ``num_parallel_calls`` are accepted and change nothing (the
next batch is computed when it is asked for), and memory holds what the recipe needs: one batch
for a generator source, the buffer for ``shuffle``, everything for ``cache``.

How it runs. While a pipeline only reorders, selects and groups the rows of in-memory arrays
(``from_tensor_slices``, then any of ``shuffle``, ``take``, ``skip``, ``repeat``, ``cache``, ``prefetch``,
then ``batch``), it works on row INDICES (``rows``), and a batch is one NumPy fancy index of the
arrays: exactly the batch ``x[order[i:i + b]]`` gives, at NumPy's speed. Anything else goes element
by element (``elements``), as TensorFlow defines it: ``map`` before ``batch`` calls its function once
per element (put ``map`` after ``batch`` when the function works on whole batches: one call per
batch). ``cache()`` turns what it has seen into arrays, so the epochs after the first are on the
index path again.
"""
import itertools

import numpy as np

from ..core.checks import check_bool, check_callable, check_int, invalid
from ..core.utils import rng

AUTOTUNE = -1                 # tf.data.AUTOTUNE: "let the runtime choose"; here, nothing to choose
INFINITE_CARDINALITY = -1     # tf.data's values for cardinality()
UNKNOWN_CARDINALITY = -2


# ----- elements: an array, or a tuple / dict of them (as tf.nest: a list is one array) ----------------
def structure_of(value):
    """``value`` with tuples and dicts kept and every other leaf made a NumPy array (a list is one array)."""
    if type(value) is np.ndarray:                 # the common leaf first: this runs once per element of a map
        return value
    if isinstance(value, tuple):
        return tuple([structure_of(v) for v in value])
    if isinstance(value, dict):
        return {key: structure_of(v) for key, v in value.items()}
    return np.asarray(value)


def map_leaves(function, value):
    if isinstance(value, tuple):
        return tuple([map_leaves(function, v) for v in value])
    if isinstance(value, dict):
        return {key: map_leaves(function, v) for key, v in value.items()}
    return function(value)


def leaves(value):
    if isinstance(value, tuple):
        return [leaf for v in value for leaf in leaves(v)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in leaves(v)]
    return [value]


def stack(elements):
    """A batch from a list of elements of one structure: each leaf stacked on a new first axis."""
    first = elements[0]
    if isinstance(first, tuple):
        return tuple(stack([e[i] for e in elements]) for i in range(len(first)))
    if isinstance(first, dict):
        return {key: stack([e[key] for e in elements]) for key in first}
    return np.stack(elements)


def gather(arrays, index):
    """The rows ``index`` (an int, or an array of ints) of every array of a structure."""
    return map_leaves(lambda a: a[index], arrays)


def chunks_of(indices, size):
    """Regroup a stream of index arrays into arrays of ``size`` indices (the last one may be shorter)."""
    pending, count = [], 0
    for chunk in indices:
        pending.append(chunk)
        count += len(chunk)
        while count >= size:
            joined = np.concatenate(pending)
            yield joined[:size]
            pending, count = [joined[size:]], count - size
    if count:
        yield np.concatenate(pending)


def shuffled_stream(items, buffer_size, generator):
    """TensorFlow's ``shuffle``: keep ``buffer_size`` items; each output is a random item of the buffer, whose
    place the next input takes. (Each item moves at most ``buffer_size`` places earlier; a buffer as large as
    the data set gives a uniform shuffle.)"""
    buffer, draws = [], iter(())
    for item in items:
        if len(buffer) < buffer_size:
            buffer.append(item)
            continue
        u = next(draws, None)
        if u is None:                         # random numbers drawn 4096 at a time: one call per item is slow
            draws = iter(generator.random(4096).tolist())
            u = next(draws)
        i = int(u * len(buffer))
        yield buffer[i]
        buffer[i] = item
    for i in generator.permutation(len(buffer)):
        yield buffer[i]


# ----- the dataset -------------------------------------------------------------------------------------
class Dataset:
    """A lazy pipeline of elements. Start with ``Dataset.from_tensor_slices``, ``from_tensors``, ``from_generator``
    or ``range``; chain ``shuffle``, ``map``, ``filter``, ``batch``, ``unbatch``, ``cache``, ``take``, ``skip``,
    ``repeat``, ``prefetch``, ``concatenate``; iterate it, or pass it to ``fit`` / ``evaluate`` / ``predict``.

    A subclass says how to produce its elements (``elements``), its length (``cardinality``), and, when its
    elements are rows of in-memory arrays, which rows in which order (``rows``: ``(arrays, index arrays)``).
    """

    # ----- what a step provides --------------------------------------------------------------------
    def rows(self):
        """``(arrays, iterator of index arrays)`` when the elements are rows of in-memory arrays, else None."""
        return None

    def elements(self):
        """A new iterator over the elements, one at a time."""
        raise NotImplementedError

    def cardinality(self):
        """The number of elements; ``INFINITE_CARDINALITY`` (-1) or ``UNKNOWN_CARDINALITY`` (-2)."""
        return UNKNOWN_CARDINALITY

    # ----- iterating ----------------------------------------------------------------------------------
    def __iter__(self):
        rows = self.rows()
        if rows is None:
            return self.elements()
        arrays, indices = rows
        return (gather(arrays, i) for chunk in indices for i in chunk.tolist())     # Python ints index faster

    def as_numpy_iterator(self):
        """The elements as NumPy arrays (they already are)."""
        return iter(self)

    def __len__(self):
        n = self.cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return n

    def __bool__(self):
        return True

    def __repr__(self):
        n = self.cardinality()
        length = {INFINITE_CARDINALITY: "infinite", UNKNOWN_CARDINALITY: "unknown"}.get(n, n)
        return f"<{type(self).__name__} of {length} elements>"

    # ----- sources ------------------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """One element per row: ``from_tensor_slices((x, y))`` gives ``(x[i], y[i])`` for every i."""
        return TensorSlices(tensors)

    @staticmethod
    def from_tensors(tensors, name=None):
        """A dataset of one element, ``tensors`` itself."""
        return TensorSlices(map_leaves(lambda a: a[None], structure_of(tensors)))

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None, output_signature=None,
                       name=None):
        """The elements ``generator(*args)`` yields; ``generator`` is called again for every pass.

        ``output_types`` / ``output_shapes`` / ``output_signature`` are accepted (TensorFlow needs them to
        build a graph; NumPy does not) and the elements are used as they come.
        """
        return FromGenerator(generator, () if args is None else tuple(args))

    @staticmethod
    def range(*args, dtype=np.int64, name=None):
        """``range(stop)``, ``range(start, stop[, step])`` as Python's, as a dataset of int64 scalars."""
        return TensorSlices(np.arange(*args, dtype=dtype))

    @staticmethod
    def zip(*datasets, name=None):
        """Elements that are tuples of the elements of each dataset (``zip((images, labels))``)."""
        if len(datasets) == 1 and isinstance(datasets[0], (tuple, list)):
            datasets = tuple(datasets[0])
        for dataset in datasets:
            if not isinstance(dataset, Dataset):
                raise TypeError(f"Dataset.zip expects datasets. Received: {dataset!r}")
        return Zip(datasets)

    # ----- transformations ---------------------------------------------------------------------------
    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        """Shuffle with a buffer of ``buffer_size`` elements (a uniform shuffle when it holds the whole data set),
        in a new order each iteration unless ``reshuffle_each_iteration=False``."""
        return Shuffle(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        """Group ``batch_size`` consecutive elements into one, each array stacked on a new first axis."""
        return Batch(self, batch_size, drop_remainder)

    def unbatch(self, name=None):
        """The rows of each element again: the inverse of ``batch``."""
        return Unbatch(self)

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """``map_func`` applied to every element (a tuple element is passed as separate arguments, as
        TensorFlow does: ``ds.map(lambda image, label: (image / 255, label))``)."""
        return Map(self, map_func)

    def filter(self, predicate, name=None):
        """The elements for which ``predicate(element)`` is true."""
        return Filter(self, predicate)

    def take(self, count, name=None):
        """The first ``count`` elements (all of them for count=-1)."""
        return Take(self, count)

    def skip(self, count, name=None):
        """All but the first ``count`` elements."""
        return Skip(self, count)

    def repeat(self, count=None, name=None):
        """The elements ``count`` times over (forever for None or -1); each repetition iterates anew."""
        return Repeat(self, count)

    def cache(self, filename="", name=None):
        """Keep the elements of the first complete pass in memory and replay them (no file: ``filename`` must
        be empty)."""
        return Cache(self, filename)

    def prefetch(self, buffer_size, name=None):
        """Accepted, and the same dataset: there is no background thread to prepare batches ahead."""
        return Prefetch(self)

    def concatenate(self, dataset, name=None):
        """This dataset's elements, then ``dataset``'s."""
        return Concatenate(self, dataset)

    def apply(self, transformation_func):
        """``transformation_func(self)``: ``ds.apply(f)`` reads as a step of the chain."""
        return transformation_func(self)

    def enumerate(self, start=0, name=None):
        """``(i, element)`` pairs, i counting from ``start``."""
        return Enumerate(self, check_int(start, "start"))


class TensorSlices(Dataset):
    def __init__(self, tensors):
        self.arrays = structure_of(tensors)
        lengths = {np.shape(a)[0] if np.ndim(a) else None for a in leaves(self.arrays)}
        if None in lengths or len(lengths) != 1:
            raise ValueError("from_tensor_slices needs arrays with the same number of rows (the first axis). Received "
                             f"shapes {[np.shape(a) for a in leaves(self.arrays)]}")
        self.n = lengths.pop()

    def rows(self):
        return self.arrays, iter([np.arange(self.n)])

    def cardinality(self):
        return self.n


class FromGenerator(Dataset):
    def __init__(self, generator, args):
        self.generator, self.args = check_callable(generator, "generator", "a function returning a generator (not "
                                                   "the generator itself: it is called again for every pass)"), args

    def elements(self):
        return (structure_of(e) for e in self.generator(*self.args))


class Step(Dataset):
    """A dataset made from another: by default the same rows, elements and length."""

    def __init__(self, source):
        if not isinstance(source, Dataset):
            raise TypeError(f"Expected a tinynet.data.Dataset. Received: {source!r}")
        self.source = source

    def rows(self):
        return self.source.rows()

    def elements(self):
        return iter(self.source)

    def cardinality(self):
        return self.source.cardinality()


class Prefetch(Step):
    pass


class Shuffle(Step):
    def __init__(self, source, buffer_size, seed, reshuffle_each_iteration):
        super().__init__(source)
        self.buffer_size = check_int(buffer_size, "buffer_size", 1)
        self.reshuffle = check_bool(bool(reshuffle_each_iteration) if reshuffle_each_iteration is not None else True,
                                    "reshuffle_each_iteration")
        seed = None if seed is None else check_int(seed, "seed", 0)
        if not self.reshuffle and seed is None:
            seed = int(rng().integers(2 ** 31))       # the one order every iteration repeats
        self.seed = seed
        self._generator = None if seed is None else np.random.default_rng(seed)

    def generator(self):
        """A new order each iteration (from tinynet's generator, or this dataset's seeded one); the same order
        each time when ``reshuffle_each_iteration=False``."""
        if not self.reshuffle:
            return np.random.default_rng(self.seed)
        return self._generator if self._generator is not None else rng()

    def rows(self):
        rows = self.source.rows()
        if rows is None:
            return None
        arrays, indices = rows
        generator, n = self.generator(), self.source.cardinality()
        if 0 <= n <= self.buffer_size:                 # the buffer holds it all: one uniform permutation
            order = np.concatenate(list(indices))
            return arrays, iter([order[generator.permutation(len(order))]])
        stream = shuffled_stream((i for chunk in indices for i in chunk.tolist()), self.buffer_size, generator)
        return arrays, (np.fromiter(block, np.int64) for block in iter(lambda: list(itertools.islice(stream, 4096)),
                                                                       []))

    def elements(self):
        return shuffled_stream(iter(self.source), self.buffer_size, self.generator())


class Batch(Step):
    def __init__(self, source, batch_size, drop_remainder):
        super().__init__(source)
        self.batch_size = check_int(batch_size, "batch_size", 1)
        self.drop_remainder = check_bool(drop_remainder, "drop_remainder")

    def rows(self):
        return None                                    # its elements are batches, not rows

    def elements(self):
        rows = self.source.rows()
        if rows is not None:                           # one fancy index per batch
            arrays, indices = rows
            for index in chunks_of(indices, self.batch_size):
                if len(index) == self.batch_size or not self.drop_remainder:
                    yield gather(arrays, index)
            return
        source = iter(self.source)
        while True:
            group = list(itertools.islice(source, self.batch_size))
            if not group or (self.drop_remainder and len(group) < self.batch_size):
                return
            yield stack(group)

    def cardinality(self):
        n = self.source.cardinality()
        if n < 0:
            return n
        return n // self.batch_size if self.drop_remainder else -(-n // self.batch_size)


class Unbatch(Step):
    def rows(self):
        return None

    def elements(self):
        for batch in self.source:
            yield from (gather(batch, i) for i in range(len(leaves(batch)[0])))

    def cardinality(self):
        return UNKNOWN_CARDINALITY


class Map(Step):
    def __init__(self, source, map_func):
        super().__init__(source)
        self.map_func = check_callable(map_func, "map_func")

    def rows(self):
        return None

    def elements(self):
        for element in self.source:
            yield structure_of(self.map_func(*element) if isinstance(element, tuple) else self.map_func(element))


class Filter(Step):
    def __init__(self, source, predicate):
        super().__init__(source)
        self.predicate = check_callable(predicate, "predicate")

    def rows(self):
        return None

    def elements(self):
        for element in self.source:
            if bool(self.predicate(*element) if isinstance(element, tuple) else self.predicate(element)):
                yield element

    def cardinality(self):
        return UNKNOWN_CARDINALITY


def cut(indices, start, stop):
    """The index stream from position ``start`` to ``stop`` (None: to the end)."""
    seen = 0
    for chunk in indices:
        lo, hi = max(start - seen, 0), len(chunk) if stop is None else min(stop - seen, len(chunk))
        if lo < hi:
            yield chunk[lo:hi]
        seen += len(chunk)
        if stop is not None and seen >= stop:
            return


class Take(Step):
    def __init__(self, source, count):
        super().__init__(source)
        self.count = check_int(count, "count", -1)

    def rows(self):
        rows = self.source.rows()
        if rows is None or self.count == -1:
            return rows
        arrays, indices = rows
        return arrays, cut(indices, 0, self.count)

    def elements(self):
        return iter(self.source) if self.count == -1 else itertools.islice(iter(self.source), self.count)

    def cardinality(self):
        n = self.source.cardinality()
        if self.count == -1:
            return n
        if n == INFINITE_CARDINALITY:
            return self.count
        return n if n == UNKNOWN_CARDINALITY else min(n, self.count)


class Skip(Step):
    def __init__(self, source, count):
        super().__init__(source)
        self.count = check_int(count, "count", -1)

    def rows(self):
        rows = self.source.rows()
        if rows is None:
            return None
        arrays, indices = rows
        return arrays, iter([]) if self.count == -1 else cut(indices, self.count, None)

    def elements(self):
        return iter(()) if self.count == -1 else itertools.islice(iter(self.source), self.count, None)

    def cardinality(self):
        n = self.source.cardinality()
        if self.count == -1:
            return 0
        return n if n < 0 else max(n - self.count, 0)


class Repeat(Step):
    def __init__(self, source, count):
        super().__init__(source)
        self.count = -1 if count is None else check_int(count, "count", -1)

    def passes(self):
        return itertools.count() if self.count == -1 else range(self.count)

    def rows(self):
        first = self.source.rows()
        if first is None:
            return None
        arrays, indices = first

        def all_passes():                              # each pass asks its source again: a shuffle reshuffles
            for k in self.passes():
                yield from indices if k == 0 else self.source.rows()[1]
        return arrays, all_passes()

    def elements(self):
        return (element for _ in self.passes() for element in self.source)

    def cardinality(self):
        n = self.source.cardinality()
        if n == 0 or self.count == 0:
            return 0
        if self.count == -1 or n == INFINITE_CARDINALITY:
            return INFINITE_CARDINALITY
        return n if n == UNKNOWN_CARDINALITY else n * self.count


class Cache(Step):
    def __init__(self, source, filename):
        super().__init__(source)
        if filename:
            raise ValueError(f"Dataset.cache(filename={filename!r}): caching to a file is not implemented in tinynet; "
                             "cache() keeps the elements in memory.")
        self.cached = None                             # the elements of the first complete pass
        self.cached_arrays = None                      # the same, stacked, when they are rows of one shape

    def rows(self):
        rows = self.source.rows()
        if rows is not None:                           # the data is in memory already: nothing to keep
            return rows
        if self.cached_arrays is not None:
            return self.cached_arrays, iter([np.arange(len(self.cached))])
        return None

    def elements(self):
        if self.cached is not None:
            return iter(self.cached)
        return self._first_pass()

    def _first_pass(self):
        seen = []
        for element in self.source:
            seen.append(element)
            yield element
        # Reached only when the pass was complete (TensorFlow, too, caches only a complete pass).
        self.cached = seen
        shapes = {tuple((a.shape, a.dtype) for a in leaves(e)) for e in seen}
        if seen and len(shapes) == 1:
            self.cached_arrays = stack(seen)


class Zip(Dataset):
    def __init__(self, datasets):
        self.datasets = tuple(datasets)

    def elements(self):
        return zip(*self.datasets)

    def cardinality(self):
        lengths = [d.cardinality() for d in self.datasets]
        known = [n for n in lengths if n >= 0]
        if known:
            return min(known)
        return UNKNOWN_CARDINALITY if UNKNOWN_CARDINALITY in lengths else INFINITE_CARDINALITY


class Enumerate(Step):
    def __init__(self, source, start):
        super().__init__(source)
        self.start = start

    def rows(self):
        return None

    def elements(self):
        return ((np.int64(i), element) for i, element in enumerate(self.source, self.start))


class Concatenate(Step):
    def __init__(self, source, other):
        super().__init__(source)
        if not isinstance(other, Dataset):
            raise TypeError(f"concatenate expects a tinynet.data.Dataset. Received: {other!r}")
        self.other = other

    def rows(self):
        return None

    def elements(self):
        return itertools.chain(self.source, self.other)

    def cardinality(self):
        a, b = self.source.cardinality(), self.other.cardinality()
        if INFINITE_CARDINALITY in (a, b):
            return INFINITE_CARDINALITY
        return UNKNOWN_CARDINALITY if UNKNOWN_CARDINALITY in (a, b) else a + b


class experimental:  # noqa: N801  (tf.data.experimental, where older tutorials find these names)
    AUTOTUNE = AUTOTUNE
    INFINITE_CARDINALITY = INFINITE_CARDINALITY
    UNKNOWN_CARDINALITY = UNKNOWN_CARDINALITY

    @staticmethod
    def cardinality(dataset):
        return dataset.cardinality()


__all__ = ["Dataset", "AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "experimental"]
