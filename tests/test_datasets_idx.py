"""The IDX reader on files the tests build, and the Fashion-MNIST loader's source order."""
import gzip
import struct

import numpy as np
import pytest

from tinynet.datasets import CorruptDataError, DatasetUnavailableError, fashion_mnist
from tinynet.io import cache
from tinynet.io.idx import read_idx, write_idx


def header(type_code, *dims):
    return struct.pack(f">HBB{len(dims)}I", 0, type_code, len(dims), *dims)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
def test_round_trip_every_type_plain_and_gzipped(tmp_path, dtype):
    array = (np.arange(2 * 3 * 4) - 7).reshape(2, 3, 4).astype(dtype)
    if dtype == "uint8":
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.idx", array)
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress((tmp_path / "a.idx").read_bytes()))
    for name in ("a.idx", "a.idx.gz"):
        loaded = read_idx(tmp_path / name)
        assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative
        assert np.array_equal(loaded, array)


def test_values_are_big_endian(tmp_path):
    (tmp_path / "b.idx").write_bytes(header(0x0B, 2) + b"\x01\x02\xff\xfe")
    assert read_idx(tmp_path / "b.idx").tolist() == [0x0102, -2]


def test_gzip_is_detected_by_content_not_name(tmp_path):
    raw = header(0x08, 3) + b"\x05\x06\x07"
    (tmp_path / "labels").write_bytes(gzip.compress(raw))
    (tmp_path / "plain.gz").write_bytes(raw)
    assert read_idx(tmp_path / "labels").tolist() == [5, 6, 7]
    assert read_idx(tmp_path / "plain.gz").tolist() == [5, 6, 7]


@pytest.mark.parametrize("raw, message", [
    (b"\x00\x00\x08", "too short to be an IDX file: it ends inside the 4-byte magic number"),
    (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", r"magic number is 0x01000801"),
    (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", r"magic number is 0x00000701"),
    (b"\x00\x00\x08\x00", "declares 0 dimensions"),
    (b"\x00\x00\x08\x02" + struct.pack(">I", 1), "ends inside 2 dimension sizes"),
    (header(0x08, 2, 3) + b"\x00" * 5, r"shape \(2, 3\) \(6 bytes of data\), but the file holds 5 .*truncated"),
    (header(0x08, 2, 3) + b"\x00" * 7, r"file holds 7 bytes .*trailing bytes"),
])
def test_corrupt_plain_files(tmp_path, raw, message):
    (tmp_path / "bad").write_bytes(raw)
    with pytest.raises(CorruptDataError, match=message):
        read_idx(tmp_path / "bad")


def test_corrupt_gzipped_files(tmp_path):
    good = gzip.compress(header(0x08, 100) + bytes(range(100)))
    (tmp_path / "cut.gz").write_bytes(good[:-12])
    with pytest.raises(CorruptDataError, match=r"cut\.gz could not be read as IDX"):
        read_idx(tmp_path / "cut.gz")
    (tmp_path / "short.gz").write_bytes(gzip.compress(header(0x08, 100) + bytes(60)))
    with pytest.raises(CorruptDataError, match=r"short\.gz is truncated: .* only 60 bytes follow it"):
        read_idx(tmp_path / "short.gz")
    (tmp_path / "long.gz").write_bytes(gzip.compress(header(0x08, 2) + bytes(3)))
    with pytest.raises(CorruptDataError, match="trailing bytes"):
        read_idx(tmp_path / "long.gz")


def test_absurd_sizes_are_refused_before_allocating(tmp_path, monkeypatch):
    allocations = []
    real_empty = np.empty
    monkeypatch.setattr(np, "empty", lambda *a, **k: allocations.append(a) or real_empty(*a, **k))
    huge = header(0x0E, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)  # ~6e29 bytes
    (tmp_path / "huge").write_bytes(huge + b"\x00" * 8)
    (tmp_path / "huge.gz").write_bytes(gzip.compress(huge + b"\x00" * 8))
    for name in ("huge", "huge.gz"):
        with pytest.raises(CorruptDataError, match=r"declares an array of shape \(4294967295, .*refusing to allocate"):
            read_idx(tmp_path / name)
    (tmp_path / "small").write_bytes(header(0x08, 1000) + bytes(1000))
    with pytest.raises(CorruptDataError, match="more than max_bytes=999"):
        read_idx(tmp_path / "small", max_bytes=999)
    assert allocations == []


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="Received: path=3"):
        read_idx(3)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing")
    with pytest.raises(ValueError, match="Received: dtype=bool"):
        write_idx(tmp_path / "x", np.zeros(2, dtype=bool))


def test_fashion_mnist_reads_a_directory_and_verifies_the_arrays(tmp_path):
    # Fake files in the right format but with the wrong content must be refused by the hash check.
    for name, filename in fashion_mnist.IDX_FILES.items():
        shape = fashion_mnist.EXPECTED[name].shape
        write_idx(tmp_path / filename[:-3], np.zeros(shape, dtype=np.uint8))
    with pytest.raises(CorruptDataError, match="x_train has sha256"):
        fashion_mnist.load_idx_dir(tmp_path)


def test_fashion_mnist_unavailable_lists_every_source(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYNET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setattr(fashion_mnist, "URLS", [(tmp_path / "no-mirror").as_uri() + "/"])
    with pytest.raises(DatasetUnavailableError) as error:
        fashion_mnist.load_data()
    message = str(error.value)
    assert "no-debian" in message and "no-mirror" in message and "apt-get install dataset-fashion-mnist" in message


def test_fashion_mnist_from_a_mirror_is_verified_and_cached(tmp_path, monkeypatch):
    """The download path, with a local file:// mirror whose files have the wrong checksum."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for filename in fashion_mnist.IDX_FILES.values():
        (mirror / filename).write_bytes(gzip.compress(header(0x08, 1) + b"\x00"))
    monkeypatch.setenv("TINYNET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setattr(fashion_mnist, "URLS", [mirror.as_uri() + "/"])
    with pytest.raises(DatasetUnavailableError, match="downloaded file has sha256"):
        fashion_mnist.load_data()
    assert not (cache.cache_dir() / fashion_mnist.FILENAME).exists()


def test_fashion_mnist_real_data():
    try:
        (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    except DatasetUnavailableError as error:
        pytest.skip(f"Fashion-MNIST not available: {error}")
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28) and x_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [6000] * 10 and np.bincount(y_test).tolist() == [1000] * 10
    assert y_test[:5].tolist() == [9, 2, 1, 1, 6]  # ankle boot, pullover, trouser, trouser, shirt
    assert len(fashion_mnist.CLASS_NAMES) == 10
