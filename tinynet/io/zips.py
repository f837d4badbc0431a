"""Opening a zip archive we did not write (tinynet's .npz, a Keras .keras), at a bounded cost.

``zipfile.ZipFile`` reads the archive's whole central directory when it opens it, a Python
loop step per member, and believes it: a 14 MB file listing 300,000 empty members takes
seconds to open before anyone can look at a name. ``open_zip`` first reads the sizes the
archive's end records declare for that directory (every record zipfile might use) and
refuses a directory larger than MAX_DIRECTORY_BYTES; then it opens the archive and refuses
two members of the same name (which one zipfile returns is an accident of the directory's
order) and encrypted members (zipfile would raise a bare RuntimeError on reading them).
"""
import os
import zipfile
import zlib

from .model_files import cut

# About 14,000 members of an np.savez archive (its directory spends 73 bytes on each): a model
# with 4,700 weights and their optimizer state. The largest directory this allows (20,000 empty
# members) adds 0.2 s to loading a .keras file (0.36 s against 0.15 s, a quiet machine, 2 cores).
MAX_DIRECTORY_BYTES = 2 ** 20
# What zipfile raises on a damaged archive (NotImplementedError: a zip feature it lacks).
ZIP_ERRORS = (OSError, EOFError, KeyError, ValueError, NotImplementedError, zlib.error, zipfile.BadZipFile)

_END = b"PK\x05\x06"            # end of central directory record (22 bytes and a comment)
_END64_LOCATOR = b"PK\x06\x07"  # 20 bytes just before it, in a ZIP64 archive
_END64 = b"PK\x06\x06"          # ZIP64 end record (56 bytes), where the locator points


def open_zip(file, source, error, kind="a zip archive"):
    """``zipfile.ZipFile(file)`` once its directory is known to be small, without duplicate or encrypted members.

    ``file`` is an open binary file; ``error`` the exception class raised, with a message naming
    ``source`` (the file) and, for a damaged archive, saying it is not ``kind``.
    """
    check_directory_size(file, source, error)
    try:
        archive = zipfile.ZipFile(file)
    except ZIP_ERRORS as cause:
        raise error(f"{source} is truncated, corrupt or not {kind} ({type(cause).__name__}: "
                    f"{cut(str(cause))})") from cause
    seen = set()
    for info in archive.infolist():
        if info.filename in seen:
            archive.close()
            raise error(f"{source} is corrupt: it holds two members named {cut(info.filename, 100)!r}")
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            archive.close()
            raise error(f"{source}: its member {cut(info.filename, 100)!r} is encrypted; tinynet reads "
                        "unencrypted archives only")
    return archive


def check_directory_size(file, source, error):
    """Refuse an archive whose end records declare a central directory above MAX_DIRECTORY_BYTES."""
    largest = max(directory_sizes(file), default=0)
    if largest > MAX_DIRECTORY_BYTES:
        raise error(f"{source} declares a zip directory of {largest:,} bytes, more than the "
                    f"{MAX_DIRECTORY_BYTES:,} tinynet reads (an archive of a few weight arrays needs a few kB)")


def directory_sizes(file):
    """Every central-directory size the end records of the zip in ``file`` declare.

    zipfile takes the end record in the last 22 bytes, or else the last one in the final
    64 kB, and then the ZIP64 record its locator points to (found relative to the end record
    or at the offset the locator gives, depending on the Python version): all are returned.
    """
    file.seek(0, os.SEEK_END)
    size = file.tell()
    start = max(size - 22 - 0xFFFF, 0)
    file.seek(start)
    tail = file.read()
    sizes = []
    for at in {len(tail) - 22, tail.rfind(_END)}:
        if at < 0 or tail[at:at + 4] != _END or len(tail) - at < 22:
            continue
        sizes.append(int.from_bytes(tail[at + 12:at + 16], "little"))
        locator_at = start + at - 20
        if locator_at < 0:
            continue
        file.seek(locator_at)
        locator = file.read(20)
        if locator[:4] != _END64_LOCATOR:
            continue
        for record_at in (locator_at - 56, int.from_bytes(locator[8:16], "little")):
            if 0 <= record_at < size:
                file.seek(record_at)
                record = file.read(56)
                if record[:4] == _END64 and len(record) == 56:
                    sizes.append(int.from_bytes(record[40:48], "little"))
    file.seek(0)
    return sizes
