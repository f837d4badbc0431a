"""Saving is atomic in every format (tinynet's .npz, Keras .h5 / .keras / .weights.h5, the dataset
cache): a failed or killed save leaves the old file as it was and the next save cleans up after it;
a save behaves as ``open(path, "wb")`` would towards the file it replaces: it writes through a
symbolic link and keeps the file's permissions (issue 22, "Files and checkpoints")."""
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("h5py")

from tinynet.io import cache, keras_archive  # noqa: E402
from tinynet.models import load_model  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import hostile  # noqa: E402

FORMATS = [".npz", ".h5", ".keras", ".weights.h5"]


def save(model, path):
    """Keras 3's weights file for a ``.weights.h5``, else ``model.save``."""
    if str(path).endswith(".weights.h5"):
        keras_archive.write_keras_weights(model, path)
    else:
        model.save(path)


def run_child(code, *args):
    """Run ``code`` in a fresh Python (tests/robustness on its path); its CompletedProcess."""
    prelude = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import hostile\n"
    return subprocess.run([sys.executable, "-c", prelude + code, *map(str, args)], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
@pytest.mark.parametrize("suffix", [".h5", ".keras", ".npz"])
def test_a_full_disk_fails_the_save_cleanly_and_keeps_the_old_file(tmp_path, suffix):
    # The disk is made "full" for the child with a file-size limit: writes past 4 kB fail (EFBIG),
    # as they would with ENOSPC. Before, the HDF5 library wrote the .h5 itself and died (SIGSEGV)
    # or raised a bare RuntimeError that ModelCheckpoint did not catch.
    path = tmp_path / f"model{suffix}"
    path.write_bytes(b"the previous checkpoint")
    done = run_child(
        "import resource, signal\n"
        "from tinynet import layers\nfrom tinynet.models import Sequential\n"
        "model = Sequential([layers.Dense(64, input_shape=(64,))])\n"
        "model.compile('adam', 'mse')\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n    model.save(sys.argv[1])\n"
        "except OSError as error:\n    print(type(error).__name__, error)\n", path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "File too large" in done.stdout and str(path) in done.stdout, done.stdout
    assert path.read_bytes() == b"the previous checkpoint"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no part file left


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_parts_left_by_a_killed_save_are_removed_by_the_next_save(tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    # Killed (SIGKILL) when the part file is complete, just before it would be renamed onto the file.
    done = run_child("import os, signal\nfrom tinynet.io import atomic\n"
                     "atomic.os.replace = lambda *args: os.kill(os.getpid(), signal.SIGKILL)\n"
                     "hostile.honest_model().save(sys.argv[1])\n", path)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(f".{path.name}.") and left[0].endswith(".part"), left
    model = hostile.honest_model()
    model.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    np.testing.assert_array_equal(load_model(path).get_weights()[0], model.get_weights()[0])


@pytest.mark.parametrize("suffix", FORMATS + ["cache"])
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604])
def test_overwriting_a_file_keeps_its_permissions(tmp_path, suffix, mode):
    path = tmp_path / ("data.npz" if suffix == "cache" else f"model{suffix}")
    path.write_bytes(b"old")
    path.chmod(mode)
    if suffix == "cache":
        cache.save_npz(path, {"x": np.zeros(2)})
    else:
        save(hostile.honest_model(), path)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_bytes() != b"old"


@pytest.mark.parametrize("suffix", FORMATS + ["cache"])
def test_saving_to_a_symbolic_link_writes_through_it(tmp_path, suffix):
    name = "data.npz" if suffix == "cache" else f"model{suffix}"
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / name
    target.write_bytes(b"old")
    link = tmp_path / name
    link.symlink_to(target)
    dangling = tmp_path / f"new_{name}"
    dangling.symlink_to(tmp_path / "store" / f"new_{name}")  # its target does not exist yet
    for path in (link, dangling):
        if suffix == "cache":
            cache.save_npz(path, {"x": np.zeros(2)})
        else:
            save(hostile.honest_model(), path)
        assert path.is_symlink()
    assert target.read_bytes() != b"old" and (tmp_path / "store" / f"new_{name}").is_file()
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == sorted([name, f"new_{name}"])
    if suffix in (".npz", ".h5", ".keras"):
        assert load_model(link).count_params() == 23


def test_a_symbolic_link_loop_is_refused_like_open_refuses_it(tmp_path):
    loop = tmp_path / "loop.npz"
    loop.symlink_to(loop)
    with pytest.raises(OSError, match="symbolic links"):
        hostile.honest_model().save(loop)
    assert loop.is_symlink()
