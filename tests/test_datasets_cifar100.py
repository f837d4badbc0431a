"""The CIFAR-100 loader, on small archives in the canonical format that the tests build themselves."""
import io
import pickle
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from tinynet.datasets import DatasetUnavailableError, CorruptDataError, cifar100

# The archives are pickled as Python 2's cPickle wrote CIFAR's, by the builder the robustness tests share.
sys.path.insert(0, str(Path(__file__).parent / "robustness"))
from hostile import python2_pickle  # noqa: E402


def part(n, seed):
    rng = np.random.default_rng(seed)
    return {b"filenames": [f"img_{i}.png".encode() for i in range(n)], b"batch_label": b"training batch 1 of 1",
            b"fine_labels": [int(v) for v in rng.integers(0, 100, n)],
            b"coarse_labels": [int(v) for v in rng.integers(0, 20, n)],
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}


def write_archive(path, members):
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(f"cifar-100-python/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


@pytest.fixture
def archive(tmp_path):
    train, test = part(6, seed=1), part(4, seed=2)
    members = {"meta": python2_pickle({b"fine_label_names": [b"apple"] * 100}), "train": python2_pickle(train),
               "test": python2_pickle(test)}
    return write_archive(tmp_path / "cifar-100-python.tar.gz", members), train, test


def test_the_test_pickles_are_python2_style():
    raw = python2_pickle(part(1, seed=0))
    assert raw.startswith(b"\x80\x02") and b"numpy.core.multiarray\n_reconstruct" in raw and b"U\x04data" in raw


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_keras_layout_from_the_archive(archive, label_mode):
    path, train, test = archive
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode=label_mode, path=path)
    assert x_train.shape == (6, 32, 32, 3) and x_test.shape == (4, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (6, 1) and y_test.shape == (4, 1) and y_train.dtype == np.int64
    np.testing.assert_array_equal(y_train[:, 0], train[f"{label_mode}_labels".encode()])
    # Row layout: 1024 red values, then 1024 green, then 1024 blue, each plane row by row.
    row = train[b"data"][3]
    np.testing.assert_array_equal(x_train[3, :, :, 0], row[:1024].reshape(32, 32))
    np.testing.assert_array_equal(x_train[3, 5, 7], [row[5 * 32 + 7], row[1024 + 5 * 32 + 7], row[2048 + 5 * 32 + 7]])
    np.testing.assert_array_equal(x_test.reshape(4, -1, 3).transpose(0, 2, 1).reshape(4, -1), test[b"data"])
    assert all(a.flags.writeable for a in (x_train, y_train, x_test, y_test))   # np.random.shuffle(y_train) works


def test_extracted_directory_works_too(archive, tmp_path):
    path, train, _ = archive
    with tarfile.open(path) as tar:
        tar.extractall(tmp_path / "out", filter="data")
    (x_train, _), _ = cifar100.load_data(path=tmp_path / "out" / "cifar-100-python")
    assert x_train.shape == (6, 32, 32, 3)


def test_default_location_is_the_tinynet_cache(archive, tmp_path, monkeypatch):
    monkeypatch.setenv("TINYNET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(DatasetUnavailableError, match=r"cifar-100-python.tar.gz.*\n.*toronto") as error:
        cifar100.load_data()
    assert str(tmp_path / "home" / "datasets" / "cifar-100-python.tar.gz") in str(error.value)
    (tmp_path / "home" / "datasets").mkdir(parents=True)
    archive[0].rename(tmp_path / "home" / "datasets" / "cifar-100-python.tar.gz")
    (x_train, _), _ = cifar100.load_data()
    assert len(x_train) == 6


def test_a_pickle_that_calls_a_function_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("owned",))
    members = {"train": pickle.dumps({"data": Evil()}, protocol=2), "test": python2_pickle(part(1, 0))}
    path = write_archive(tmp_path / "evil.tar.gz", members)
    with pytest.raises(CorruptDataError, match=r"refusing to load global (__builtin__|builtins)\.print"):
        cifar100.load_data(path=path)


def test_damaged_and_wrong_archives_raise_corrupt_data(tmp_path, archive):
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive[0].read_bytes()[:200])
    with pytest.raises(CorruptDataError):
        cifar100.load_data(path=truncated)
    no_test = write_archive(tmp_path / "no_test.tar.gz", {"train": python2_pickle(part(2, 0))})
    with pytest.raises(CorruptDataError, match="no test member"):
        cifar100.load_data(path=no_test)
    bad = part(2, 0)
    bad[b"fine_labels"] = [0, 100]
    wrong = write_archive(tmp_path / "wrong.tar.gz", {"train": python2_pickle(bad), "test": python2_pickle(part(1, 0))})
    with pytest.raises(CorruptDataError, match=r"fine_labels.*\[0, 100\)"):
        cifar100.load_data(path=wrong)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")
    with pytest.raises(TypeError, match="path"):
        cifar100.load_data(path=3)
    with pytest.raises(DatasetUnavailableError, match="no such file"):
        cifar100.load_data(path=tmp_path / "missing.tar.gz")
