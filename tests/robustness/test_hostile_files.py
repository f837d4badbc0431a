"""Hostile or damaged files: each is refused with a clear error at a bounded cost, and the failed
call changes nothing (the file, the cache, the model, the random state).

The files are built by ``hostile.py`` at small sizes; ``benchmarks/fuzz_readers.py --hostile``
builds them at the sizes issue 12 measured and reports memory and time in a subprocess each.
"""
import errno
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from tinynet import utils
from tinynet.datasets import cifar100, mnist
from tinynet.io import cache, idx
from tinynet.io.cache import ArraySpec
from tinynet.io.errors import CacheWarning, CorruptDataError, DatasetUnavailableError, ModelFileError
from tinynet.models import load_model, load_weights

sys.path.insert(0, str(Path(__file__).parent))
import hostile  # noqa: E402

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


@contextmanager
def bounded(max_bytes, max_seconds=2.0):
    """The block allocates at most ``max_bytes`` (traced by tracemalloc) and takes at most ``max_seconds``."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        yield
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < max_bytes, f"{peak:,} bytes allocated"
    assert time.perf_counter() - start < max_seconds


@contextmanager
def unchanged(path):
    """The file at ``path`` has the same bytes (and tinynet's random state is the same) afterwards."""
    before = Path(path).read_bytes()
    rng_state = utils.rng().bit_generator.state
    yield
    assert Path(path).read_bytes() == before
    assert utils.rng().bit_generator.state == rng_state


# ----------------------------------------------------------------- model files
@pytest.mark.parametrize("build, message", [
    (lambda d: hostile.two_wide_dense(d, units=6000), r"asks for weight 'dense\w*/kernel' of shape \(4, 6000\)"),
    (lambda d: hostile.wide_input(d, width=20000), r"shape \(400000000, 3\), but the file's array for it has shape \(4, 3\)"),
    (lambda d: hostile.inflated_member(d, n_bytes=40 << 20), r"shape \(4, 3\), but the file's array for it has shape \(10485760,\)"),
    (lambda d: hostile.long_config(d, n_chars=5_000_000), r"string of 5,000,000 characters, more than the 4,000,000"),
    (lambda d: hostile.lying_header(d), r"declares float32 of shape \(1099511627776,\)"),
], ids=["two Dense(6000)", "20000-wide input", "40 MB member deflated", "5M-character config", "lying header"])
def test_a_file_describing_more_than_it_holds_is_refused_before_allocating(tmp_path, build, message):
    path = build(tmp_path)
    with unchanged(path), bounded(8 << 20), pytest.raises(ModelFileError, match=message):
        load_model(path)


@pytest.mark.parametrize("make", ["/dev/zero", "fifo", "directory"])
def test_anything_but_a_regular_file_is_refused_without_reading(tmp_path, make):
    if make == "/dev/zero":
        path = Path("/dev/zero")
        if not path.exists():
            pytest.skip("no /dev/zero")
    elif make == "fifo":
        path = tmp_path / "pipe.npz"
        os.mkfifo(path)
    else:
        path = tmp_path / "folder.npz"
        path.mkdir()
    # A FIFO without a writer would block a plain open() forever: fail the test instead of hanging.
    timer = threading.Timer(5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with bounded(1 << 20):
            with pytest.raises(ModelFileError, match="not a regular file"):
                load_model(path)
            with pytest.raises(ModelFileError, match="not a regular file"):
                load_weights(hostile.honest_model(), path)
            with pytest.raises(CorruptDataError, match="not a regular file"):
                idx.read_idx(path)
            with pytest.raises(CorruptDataError, match="not a regular file"):
                cache.load_npz(path, {})
    finally:
        timer.cancel()


def test_a_non_finite_weight_is_refused_and_load_weights_changes_nothing(tmp_path):
    path = hostile.edited_weight(tmp_path, "weight/0001", lambda a: a.__setitem__(0, np.nan), "nan.npz")
    with unchanged(path), pytest.raises(ModelFileError, match=r"weight 'dense\w*/bias' holds NaN or infinite"):
        load_model(path)
    model = hostile.honest_model()
    before = model.get_weights()
    with pytest.raises(ModelFileError, match="NaN or infinite"):
        load_weights(model, path)
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_a_float64_weight_that_overflows_float32_is_refused(tmp_path):
    hostile.honest_model().save(tmp_path / "honest.npz")
    content = hostile.members(tmp_path / "honest.npz")
    content["weight/0000.npy"] = hostile.npy_bytes(np.full((4, 3), 1e300))
    path = hostile.write_zip(tmp_path / "huge.npz", content)
    with unchanged(path), pytest.raises(ModelFileError, match="overflows float32"):
        load_model(path)
    model = hostile.honest_model()
    before = model.get_weights()
    with pytest.raises(ModelFileError, match="overflows float32"):
        load_weights(model, path)
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_a_negative_second_moment_is_refused(tmp_path):
    hostile.honest_model().save(tmp_path / "probe.npz")
    key = next(name[:-4] for name in hostile.members(tmp_path / "probe.npz")
               if name.startswith("optimizer/0000/") and name[15:-4] in ("v", "v_sum"))
    path = hostile.edited_weight(tmp_path, key, lambda a: a.__setitem__((0, 0), -1.0), "negative_v.npz")
    with unchanged(path), pytest.raises(ModelFileError, match=r"impossible|negative"):
        load_model(path)
    # Without compiling, the optimizer state is not read: the model loads.
    assert load_model(path, compile=False).count_params() == 23


def test_a_non_finite_optimizer_state_is_refused(tmp_path):
    path = hostile.edited_weight(tmp_path, "optimizer/0000/" + _first_state_key(tmp_path),
                                 lambda a: a.__setitem__((0, 0), np.inf), "inf_state.npz")
    with unchanged(path), pytest.raises(ModelFileError, match="NaN or infinite"):
        load_model(path)


def _first_state_key(tmp_path):
    hostile.honest_model().save(tmp_path / "probe.npz")
    return sorted(name[15:-4] for name in hostile.members(tmp_path / "probe.npz") if name.startswith("optimizer/0000/"))[0]


def test_parts_left_by_a_killed_writer_are_removed_by_the_next_write(tmp_path):
    path = tmp_path / "model.npz"
    # A child process killed (SIGKILL) in the middle of writing leaves its part file behind.
    code = ("import os, signal, sys; from tinynet.io.atomic import atomic_write\n"
            "with atomic_write(sys.argv[1]) as f:\n    f.write(b'x' * 1000); f.flush(); os.kill(os.getpid(), signal.SIGKILL)")
    child = subprocess.run([sys.executable, "-c", code, str(path)])
    assert child.returncode == -signal.SIGKILL
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".model.npz.") and left[0].endswith(".part")
    live = tmp_path / f".model.npz.{os.getpid()}.0000.part"  # this (running) process's: kept
    live.write_bytes(b"in progress")
    other = tmp_path / ".other.npz.1.0000.part"  # another file's: not ours to remove
    other.write_bytes(b"")
    hostile.honest_model().save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, "model.npz"])


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_saved_files_get_the_users_usual_permissions(tmp_path, umask):
    old = os.umask(umask)
    try:
        hostile.honest_model().save(tmp_path / "model.npz")
        cache.save_npz(tmp_path / "data.npz", {"x": np.zeros(2)})
    finally:
        os.umask(old)
    for name in ("model.npz", "data.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask


# ----------------------------------------------------------------- dataset caches
def fake_mnist():
    rng = np.random.default_rng(0)
    return {"x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8), "y_train": rng.integers(0, 10, 6, dtype=np.uint8),
            "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8), "y_test": rng.integers(0, 10, 2, dtype=np.uint8)}


@pytest.fixture
def mnist_home(tmp_path, monkeypatch):
    """Private homes; MNIST's EXPECTED matching fake arrays; a fetch that counts its calls (no network)."""
    monkeypatch.setenv("TINYNET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    arrays = fake_mnist()
    monkeypatch.setattr(mnist, "EXPECTED", {k: ArraySpec(a.shape, str(a.dtype), cache.sha256_array(a))
                                            for k, a in arrays.items()})
    calls = []
    monkeypatch.setattr(mnist, "_fetch", lambda dest: calls.append(dest) or {k: a.copy() for k, a in arrays.items()})
    return arrays, calls, cache.cache_dir() / "mnist.npz"


def check_mnist(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, name in [(x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"), (y_test, "y_test")]:
        np.testing.assert_array_equal(got, arrays[name])


DAMAGED_HEADERS = {
    "shape (2**40,)": lambda: hostile.npy_header((2 ** 40,), np.uint8),
    "unterminated bracket (tokenize.TokenError)": lambda: (b"\x93NUMPY\x01\x00\x36\x00{'descr': '|u1', 'fortran_order': False, 'shape': ((( }"
                                                           .ljust(64, b" ")[:63] + b"\n"),
    "wrong dtype": lambda: hostile.npy_header((6,), np.int64),
    "object dtype": lambda: hostile.npy_header((6,), object),
    "65 dimensions": lambda: hostile.npy_header((1,) * 65, np.uint8),
}


@pytest.mark.parametrize("damage", sorted(DAMAGED_HEADERS))
def test_any_damaged_cache_header_is_fetched_again_once_with_a_warning(mnist_home, damage):
    arrays, calls, path = mnist_home
    path.parent.mkdir(parents=True)
    hostile.mnist_cache_with_header(path.parent, arrays, "y_train", DAMAGED_HEADERS[damage]())
    with bounded(16 << 20), pytest.warns(CacheWarning, match="unusable, fetching it again"):
        check_mnist(mnist.load_data(), arrays)
    assert len(calls) == 1
    check_mnist(mnist.load_data(), arrays)  # healed: read from the cache without fetching
    assert len(calls) == 1


@pytest.mark.parametrize("error", [MemoryError, RecursionError, AttributeError, UnicodeDecodeError])
def test_any_exception_while_reading_the_cache_counts_as_damage(mnist_home, monkeypatch, error):
    arrays, calls, path = mnist_home
    cache.save_npz(path, arrays)

    def fail(*args, **kwargs):
        raise error("utf-8", b"", 0, 1, "bad") if error is UnicodeDecodeError else error("as a damaged file might")
    monkeypatch.setattr(cache.NpzReader, "array", fail)
    with pytest.warns(CacheWarning, match="fetching it again"):
        check_mnist(mnist.load_data(), arrays)
    assert len(calls) == 1


def test_a_damaged_cache_whose_fetch_fails_is_left_as_it_was(mnist_home, monkeypatch):
    arrays, calls, path = mnist_home
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 damaged")

    def offline(dest):
        raise DatasetUnavailableError("no network in tests")
    monkeypatch.setattr(mnist, "_fetch", offline)
    with unchanged(path), pytest.warns(CacheWarning), pytest.raises(DatasetUnavailableError):
        mnist.load_data()
    assert os.listdir(path.parent) == ["mnist.npz"]


def test_a_cache_that_cannot_be_created_costs_a_warning_not_the_data(mnist_home, monkeypatch, tmp_path):
    arrays, calls, _ = mnist_home
    blocker = tmp_path / "a_file"
    blocker.write_bytes(b"not a directory")
    monkeypatch.setenv("TINYNET_HOME", str(blocker))  # the cache would be a_file/datasets/mnist.npz
    with unchanged(blocker), pytest.warns(CacheWarning) as warned:
        check_mnist(mnist.load_data(), arrays)
    assert [str(w.message)[:17] for w in warned] == ["Could not cache M"]  # no "unusable" warning first
    assert len(calls) == 1


def test_a_full_disk_costs_a_warning_and_leaves_the_old_cache_and_no_part(mnist_home, monkeypatch):
    arrays, calls, path = mnist_home
    path.parent.mkdir(parents=True)
    path.write_bytes(b"damaged")

    def full_disk(file, **arrays):
        file.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(cache.np, "savez", full_disk)
    with unchanged(path), pytest.warns(CacheWarning) as warned:
        check_mnist(mnist.load_data(), arrays)
    assert any("No space left" in str(w.message) for w in warned)
    assert os.listdir(path.parent) == ["mnist.npz"]


def test_a_read_only_cache_directory_costs_a_warning(mnist_home, monkeypatch):
    arrays, calls, path = mnist_home
    path.parent.mkdir(parents=True)
    path.parent.chmod(0o500)
    if ROOT:  # root writes into read-only directories: refuse creating files as the kernel would for a user
        real_open = os.open

        def read_only_open(name, flags, *args):
            if flags & os.O_CREAT:
                raise PermissionError(errno.EACCES, "Permission denied", str(name))
            return real_open(name, flags, *args)
        monkeypatch.setattr(os, "open", read_only_open)
    try:
        with pytest.warns(CacheWarning, match="Could not cache MNIST .*Permission denied"):
            check_mnist(mnist.load_data(), arrays)
    finally:
        path.parent.chmod(0o700)
    assert os.listdir(path.parent) == []


# ----------------------------------------------------------------- CIFAR-100 and IDX
def test_cifar_member_larger_than_the_real_pickle_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setitem(cifar100.MAX_PICKLE_BYTES, "train", 1 << 20)
    path = hostile.cifar_archive(tmp_path / "cifar-100-python.tar.gz", inflate_train=20 << 20)
    assert path.stat().st_size < 100_000  # 20 MB of zeros, gzipped
    # tarfile inflates 10 kB of gzip at a time: up to ~10 MB of zeros, whatever the member's size.
    with unchanged(path), bounded(16 << 20), pytest.raises(CorruptDataError, match="declares 20,971,520 bytes"):
        cifar100.load_data(path=path)


@pytest.mark.parametrize("labels", [[2 ** 70, 1, 2, 3, 4], [None] * 5, ["a"] * 5, [1.7, 2.9, 99.99, 1.0, 2.0],
                                    [0, 1, 2, 3, 100], [-1, 0, 0, 0, 0], [True] * 5, [1, 2, 3]],
                         ids=["2**70", "None", "'a'", "floats", "100", "-1", "bools", "too few"])
def test_cifar_labels_that_are_not_class_numbers_are_corrupt_data(tmp_path, labels):
    path = hostile.cifar_archive(tmp_path / "cifar-100-python.tar.gz", fine_labels=labels)
    with unchanged(path), pytest.raises(CorruptDataError, match=r"'fine_labels' should be 5 integers in \[0, 100\)"):
        cifar100.load_data(path=path)


def test_cifar_arrays_are_plain_ndarrays(tmp_path):
    path = hostile.cifar_archive(tmp_path / "cifar-100-python.tar.gz", n=(3, 2))
    for label_mode in ("fine", "coarse"):
        (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode, path=path)
        assert {type(a) for a in (x_train, y_train, x_test, y_test)} == {np.ndarray}


def test_cifar_member_with_a_lying_pickle_length_is_refused(tmp_path):
    import io
    import tarfile
    path = tmp_path / "cifar-100-python.tar.gz"
    bomb = b"\x80\x02\x8e" + (2 ** 40).to_bytes(8, "little") + b"abc."  # BINBYTES8 claiming 1 TB
    with tarfile.open(path, "w:gz") as archive:
        for part in ("train", "test"):
            info = tarfile.TarInfo(f"cifar-100-python/{part}")
            info.size = len(bomb)
            archive.addfile(info, io.BytesIO(bomb))
    with unchanged(path), bounded(4 << 20), pytest.raises(CorruptDataError, match="not a valid pickle"):
        cifar100.load_data(path=path)


@pytest.mark.parametrize("ndim", [65, 255])
def test_idx_with_more_dimensions_than_numpy_allows_is_corrupt_data(tmp_path, ndim):
    path = tmp_path / "many.idx"
    path.write_bytes(b"\x00\x00\x08" + bytes([ndim]) + (1).to_bytes(4, "big") * ndim + b"\x07")
    with unchanged(path), pytest.raises(CorruptDataError, match=f"declares {ndim} dimensions, expected 1 to 64"):
        idx.read_idx(path)


def test_import_tinynet_does_not_import_the_downloader():
    code = ("import sys, tinynet; print(any(m in sys.modules for m in ('tinynet.io.download', 'tinynet.io.cache', "
            "'urllib.request', 'subprocess')))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
