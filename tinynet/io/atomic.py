"""Writing a file so that readers see the old version or the new one, never half of one.

``atomic_write(path)`` writes to a hidden ``.<name>.<pid>.<random>.part`` file beside
``path`` and renames it onto ``path`` once complete. As ``open(path, "wb")`` would:

- a symbolic link is written through (its target is replaced; the link stays a link),
- an existing file keeps its permissions (a file made private stays private) and, where
  the system allows, its owner and group; a new file gets what the umask gives.

A process killed mid-write (``kill -9``) leaves its part file behind; the next write to
the same path removes the parts whose writing process no longer runs. A failed write
(a full disk) removes the part, leaves ``path`` as it was, and raises the OSError with
the file's name in it.
"""
import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path):
    """Open a temporary file beside ``path`` (beside its target, for a link); on success move it onto it.

    Yields a binary file object. If the block raises (or is interrupted), the
    temporary file is deleted and ``path`` is left as it was.
    """
    path = target_of(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(path)
    # Same directory, because os.replace is only atomic within one file system; the pid in
    # the name lets a later writer tell a dead writer's part from a live one's.
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part"
    try:
        old = os.stat(path)
    except FileNotFoundError:
        old = None
    # A new file: 0o666 & ~umask, like open(path, "wb") (tempfile.mkstemp would give 0o600). Replacing
    # one: private while written, then the old file's permissions.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if old is None else 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
            if old is not None:
                _keep_owner_and_mode(file.fileno(), old)
        os.replace(tmp, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(error, OSError) and error.filename is None and error.errno is not None:
            raise OSError(error.errno, f"{error.strerror or error} (the file is as it was before)",
                          str(path)) from error
        raise


def target_of(path):
    """``path``, or for a symbolic link the file it points to (which need not exist yet, as for open())."""
    path = Path(path)
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if target.is_symlink():  # realpath stops at a loop
        raise OSError(errno.ELOOP, "Too many levels of symbolic links", str(path))
    return target


def _keep_owner_and_mode(fd, old):
    with contextlib.suppress(OSError):  # only root may give a file to another user
        os.fchown(fd, old.st_uid, old.st_gid)
    os.fchmod(fd, stat.S_IMODE(old.st_mode))


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
