"""Fuzz the file readers with random, mutated and edited inputs.

Each reader must either load the input or raise its documented error, never another
exception, never hang, and never allocate much more than the honest file would,
whatever its size fields say:

    reader                                         documented outcome
    tinynet.io.idx.read_idx                        CorruptDataError
    tinynet.models.load_model (.npz model file)    ModelFileError
    tinynet.io.safe_pickle (an unpinned pickle)    CorruptDataError
    mnist.load_data with a damaged cache           the right arrays (fetched again, with a CacheWarning)
    cifar100.load_data (a damaged archive)         CorruptDataError

``TINYNET_FUZZ_EXAMPLES`` sets the number of inputs per strategy (default 30, a short run for CI);
benchmarks/fuzz_readers.py runs longer campaigns and reports, per reader, the cases run
and the worst memory peak and time of one case.
"""
import copy
import gzip
import io
import json
import os
import pickle
import sys
import tempfile
import time
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tinynet.datasets import cifar100, mnist
from tinynet.io import cache, idx, safe_pickle
from tinynet.io.cache import ArraySpec
from tinynet.io.errors import CacheWarning, CorruptDataError, ModelFileError
from tinynet.models import load_model

sys.path.insert(0, str(Path(__file__).parent))
import hostile  # noqa: E402
from fuzzing import member_mutations, mutations, remade_zip  # noqa: E402

EXAMPLES = int(os.environ.get("TINYNET_FUZZ_EXAMPLES", "30"))  # short in CI; the benchmark runs more
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# The most one case may allocate (traced by tracemalloc) and take: the honest inputs here are
# kilobytes, so this is far above what they need and far below a size field taken at its word.
MEMORY_LIMIT = 32 << 20
TIME_LIMIT = 2.0

STATS = {reader: {"cases": 0, "loaded": 0, "worst_peak": 0, "worst_time": 0.0}
         for reader in ("idx", "npz model", "pickle", "mnist cache", "cifar100")}
TMP = Path(tempfile.mkdtemp(prefix="tinynet-fuzz-"))


def run(reader, name, data, documented):
    """Feed ``data`` to ``reader``; True if it loaded, False if it raised a documented error."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        reader(data)
        loaded = True
    except documented:
        loaded = False
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    stats = STATS[name]
    stats["cases"] += 1
    stats["loaded"] += loaded
    stats["worst_peak"] = max(stats["worst_peak"], peak)
    stats["worst_time"] = max(stats["worst_time"], elapsed)
    assert peak < MEMORY_LIMIT, f"{peak:,} bytes allocated for a {len(data)}-byte input"
    assert elapsed < TIME_LIMIT, f"{elapsed:.2f} s for a {len(data)}-byte input"
    return loaded


# ----- IDX --------------------------------------------------------------------------
def read_idx_bytes(data):
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
    run(read_idx_bytes, "idx", b"\x00\x00" + data, CorruptDataError)  # past the first check half the time


@FUZZ
@given(st.one_of(mutations(VALID_IDX, header=16), mutations(VALID_IDX_GZ, header=32)))
def test_idx_mutated(data):
    run(read_idx_bytes, "idx", data, CorruptDataError)


def test_idx_huge_size_field_is_refused_before_allocating():
    header = b"\x00\x00\x0d\x03" + (60000).to_bytes(4, "big") * 3  # 60000^3 float32: 864 TB
    for data in (header + b"\0" * 64, gzip.compress(header + b"\0" * 64)):
        assert not run(read_idx_bytes, "idx", data, CorruptDataError)
    small_lie = b"\x00\x00\x08\x01" + (200_000_000).to_bytes(4, "big")  # 200 MB, under max_bytes
    assert not run(read_idx_bytes, "idx", gzip.compress(small_lie + b"\0" * 100), CorruptDataError)


# ----- the npz model loader ------------------------------------------------------------
VALID_MODEL_PATH = TMP / "valid_model.npz"
hostile.honest_model().save(VALID_MODEL_PATH)
VALID_MODEL = VALID_MODEL_PATH.read_bytes()
MODEL_MEMBERS = hostile.members(VALID_MODEL_PATH)
MODEL_CONFIG = json.loads(str(np.load(io.BytesIO(MODEL_MEMBERS["model_config.npy"]))))


def load_model_bytes(data):
    path = TMP / "fuzz_model.npz"
    path.write_bytes(data)
    model = load_model(path)
    assert model.layers and model.count_params() > 0


@FUZZ
@given(st.binary(max_size=512))
def test_model_loader_random_bytes(data):
    run(load_model_bytes, "npz model", b"PK\x03\x04" + data, ModelFileError)
    run(load_model_bytes, "npz model", data, ModelFileError)


@FUZZ
@given(mutations(VALID_MODEL, header=128))
def test_model_loader_mutated(data):
    run(load_model_bytes, "npz model", data, ModelFileError)


@FUZZ
@given(member_mutations(len(MODEL_MEMBERS)), st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
def test_model_loader_mutated_members(mutation, compression):
    run(load_model_bytes, "npz model", remade_zip(MODEL_MEMBERS, mutation, compression), ModelFileError)


# Edits of the configuration: any number in it (units, input shape, strides, rates ...) replaced by
# small, huge, negative or non-integer values; layers duplicated or dropped.
NUMBERS = st.one_of(st.integers(-2, 8), st.sampled_from([6000, 20000, 10 ** 6, 2 ** 31, 2 ** 63, 10 ** 30]),
                    st.floats(allow_nan=True, allow_infinity=True), st.none(), st.text(max_size=3))


def _numeric_paths(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _numeric_paths(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _numeric_paths(item, path + (i,))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path


NUMERIC_PATHS = list(_numeric_paths(MODEL_CONFIG))


@st.composite
def edited_configs(draw):
    config = copy.deepcopy(MODEL_CONFIG)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(NUMERIC_PATHS))
        target = config
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = draw(NUMBERS)
    layers = config["layers"]
    action = draw(st.sampled_from(["keep", "duplicate", "drop", "wide"]))
    if action == "duplicate":
        layers.insert(1, copy.deepcopy(layers[draw(st.integers(0, len(layers) - 1))]))
    elif action == "drop" and len(layers) > 1:
        layers.pop(draw(st.integers(0, len(layers) - 1)))
    elif action == "wide":
        config["input_shape"] = [draw(st.sampled_from([20000, 10 ** 6])), draw(st.sampled_from([1, 20000]))]
        layers.insert(0, {"class_name": "Flatten", "config": {"name": "flatten_fuzz"}})
    members = dict(MODEL_MEMBERS)
    members["model_config.npy"] = hostile.npy_bytes(np.array(json.dumps(config)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


@FUZZ
@given(edited_configs())
def test_model_loader_edited_configurations(data):
    run(load_model_bytes, "npz model", data, ModelFileError)


# Lying headers and inflated members: one array member replaced by a header claiming another
# shape (and maybe deflated data of that size), or the zip directory's sizes edited.
@st.composite
def lying_members(draw):
    members = dict(MODEL_MEMBERS)
    name = draw(st.sampled_from(sorted(n for n in members if n.startswith(("weight/", "optimizer/")))))
    shape = tuple(draw(st.lists(st.sampled_from([0, 1, 3, 4, 1000, 10 ** 6, 2 ** 40]), min_size=0, max_size=3)))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int64, np.uint8, np.complex64]))
    n_data = draw(st.sampled_from(["declared", "original", "none"]))
    data = members[name][len(hostile.npy_header((1,), np.float32)):]
    n_bytes = int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize
    if n_data == "declared" and n_bytes <= 8 << 20:
        data = bytes(n_bytes)  # zeros, deflated below: an inflated member
    elif n_data == "none":
        data = b""
    members[name] = hostile.npy_header(shape, dtype) + data
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return out.getvalue()


@FUZZ
@given(lying_members())
def test_model_loader_lying_headers_and_inflated_members(data):
    run(load_model_bytes, "npz model", data, ModelFileError)


# ----- an unpinned pickle (CIFAR-100's reader) ---------------------------------------
def read_pickle(data):
    value = safe_pickle.restricted_loads(data, encoding="latin1", max_opcodes=10_000, source="fuzz")
    assert value is not None or True


def _valid_pickle(protocol):
    rng = np.random.default_rng(0)
    return pickle.dumps({"data": rng.integers(0, 256, (3, 12), dtype=np.uint8), "labels": [1, 2, 3]}, protocol=protocol)


@FUZZ
@given(st.binary(max_size=512))
def test_pickle_random_bytes(data):
    run(read_pickle, "pickle", b"\x80\x02" + data, CorruptDataError)
    run(read_pickle, "pickle", data, CorruptDataError)


@FUZZ
@given(st.sampled_from([3, 4]).flatmap(lambda protocol: mutations(_valid_pickle(protocol), header=256)))
def test_pickle_mutated(data):
    run(read_pickle, "pickle", data, CorruptDataError)


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
    "20,000 opcodes": b"\x80\x02(" + b"N" * 20_000 + b"t.",
}


def test_pickle_lying_sizes_are_refused_before_allocating():
    for name, data in HOSTILE_PICKLES.items():
        assert not run(read_pickle, "pickle", data, CorruptDataError), name
    # A float32 dtype whose BUILD state sets NumPy's "holds Python objects" flag: the array gets a clean dtype.
    flagged = (_RECONSTRUCT + b"K\x00\x85U\x01b\x87R(K\x01K\x02\x85cnumpy\ndtype\nU\x02f4K\x00K\x01\x87R(K\x03U\x01<NNN"
               b"J\xff\xff\xff\xffJ\xff\xff\xff\xffK\x01tb\x89U\x08\x00\x00\x80?\x00\x00\x00@tb.")
    array = np.asarray(safe_pickle.restricted_loads(b"\x80\x02" + flagged, encoding="latin1"))
    assert type(array) is np.ndarray and not array.dtype.hasobject and array.tolist() == [1.0, 2.0]
    with pytest.raises(CorruptDataError, match="decompresses to more than 1,048,576 bytes"):
        safe_pickle.gunzip(gzip.compress(bytes(10 << 20)), max_size=1 << 20, source="bomb.gz")


# ----- the MNIST cache ----------------------------------------------------------------
MNIST_ARRAYS = {"x_train": np.arange(6 * 28 * 28, dtype=np.uint8).reshape(6, 28, 28),
                "y_train": np.arange(6, dtype=np.uint8), "x_test": np.ones((2, 28, 28), np.uint8),
                "y_test": np.array([3, 4], np.uint8)}
MNIST_EXPECTED = {k: ArraySpec(a.shape, str(a.dtype), cache.sha256_array(a)) for k, a in MNIST_ARRAYS.items()}
MNIST_MEMBERS = {f"{k}.npy": hostile.npy_bytes(a) for k, a in MNIST_ARRAYS.items()}
_out = io.BytesIO()
np.savez(_out, **MNIST_ARRAYS)
VALID_MNIST_CACHE = _out.getvalue()


def load_mnist_with_cache(data):
    """The cache holds ``data``: load_data must return MNIST (fetched again if the cache is bad)."""
    home = TMP / "mnist_home"
    path = home / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    fetched = []
    saved = (mnist.EXPECTED, mnist._fetch, os.environ.get("TINYNET_HOME"), os.environ.get("KERAS_HOME"))
    mnist.EXPECTED = MNIST_EXPECTED
    mnist._fetch = lambda dest: fetched.append(dest) or {k: a.copy() for k, a in MNIST_ARRAYS.items()}
    os.environ["TINYNET_HOME"], os.environ["KERAS_HOME"] = str(home), str(home / "keras")
    try:
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            (x_train, y_train), (x_test, y_test) = mnist.load_data()
    finally:
        mnist.EXPECTED, mnist._fetch = saved[0], saved[1]
        for key, value in zip(("TINYNET_HOME", "KERAS_HOME"), saved[2:]):
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    for got, name in [(x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"), (y_test, "y_test")]:
        np.testing.assert_array_equal(got, MNIST_ARRAYS[name])
    # Fetched once exactly when the cache was bad, and then said so; the cache is good afterwards.
    assert len(fetched) == len([w for w in warned if issubclass(w.category, CacheWarning)]) <= 1
    assert not [w for w in warned if not issubclass(w.category, CacheWarning)]
    cache.load_npz(path, MNIST_EXPECTED)


@FUZZ
@given(mutations(VALID_MNIST_CACHE, header=128))
def test_mnist_cache_mutated(data):
    assert run(load_mnist_with_cache, "mnist cache", data, ())


@FUZZ
@given(member_mutations(len(MNIST_MEMBERS)), st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
def test_mnist_cache_mutated_members(mutation, compression):
    assert run(load_mnist_with_cache, "mnist cache", remade_zip(MNIST_MEMBERS, mutation, compression), ())


# ----- CIFAR-100 -----------------------------------------------------------------------
VALID_CIFAR = hostile.cifar_archive(TMP / "valid-cifar.tar.gz", n=(3, 2)).read_bytes()
VALID_CIFAR_TAR = gzip.decompress(VALID_CIFAR)


def load_cifar_bytes(data):
    path = TMP / "fuzz-cifar.tar.gz"
    path.write_bytes(data)
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(path=path)
    assert x_train.shape[1:] == (32, 32, 3) and y_train.shape == (len(x_train), 1)


@FUZZ
@given(mutations(VALID_CIFAR, header=64))
def test_cifar_archive_mutated(data):
    run(load_cifar_bytes, "cifar100", data, CorruptDataError)


@FUZZ
@given(mutations(VALID_CIFAR_TAR, header=2048))
def test_cifar_tar_mutated_then_gzipped(data):
    # Mutating the tar before gzip reaches the tar headers and the pickles inside.
    run(load_cifar_bytes, "cifar100", gzip.compress(data, mtime=0), CorruptDataError)


def test_valid_files_still_load():
    assert run(read_idx_bytes, "idx", VALID_IDX, CorruptDataError)
    assert run(read_idx_bytes, "idx", VALID_IDX_GZ, CorruptDataError)
    assert run(load_model_bytes, "npz model", VALID_MODEL, ModelFileError)
    for protocol in (3, 4):
        assert run(read_pickle, "pickle", _valid_pickle(protocol), CorruptDataError)
    assert run(load_mnist_with_cache, "mnist cache", VALID_MNIST_CACHE, ())
    assert run(load_cifar_bytes, "cifar100", VALID_CIFAR, CorruptDataError)
