"""Writing a file so that readers see the old version or the new one, never half of one.

``atomic_write(path)`` writes to a hidden ``.<name>.<pid>.<random>.part`` file beside
``path`` and renames it onto ``path`` once complete. A process killed mid-write
(``kill -9``) leaves its part file behind; the next write to the same path removes
the parts whose writing process no longer runs.
"""
import contextlib
import os
import secrets
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path):
    """Open a temporary file beside ``path``; on success move it onto ``path``.

    Yields a binary file object. If the block raises (or is interrupted), the
    temporary file is deleted and ``path`` is left as it was. The new file gets
    the permissions the user's umask gives any new file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(path)
    # Same directory, because os.replace is only atomic within one file system; the pid in
    # the name lets a later writer tell a dead writer's part from a live one's.
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part"
    # 0o666 & ~umask, like open(path, "wb") (tempfile.mkstemp would give 0o600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def remove_stale_parts(path):
    """Delete the part files of ``path`` left by writers that are no longer running.

    Returns the list of removed paths. Parts of running processes (including this one)
    are kept; so is anything whose name does not carry a pid.
    """
    path = Path(path)
    removed = []
    for part in path.parent.glob(f".{path.name}.*.part"):
        pid = part.name[len(path.name) + 2:].split(".")[0]
        if pid.isdigit() and not _running(int(pid)):
            with contextlib.suppress(OSError):
                part.unlink()
                removed.append(part)
    return removed


def _running(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, but belongs to another user
        return True
    except OverflowError:  # a pid no system hands out
        return False
    return True
