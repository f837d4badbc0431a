"""The errors that reading files raises: one per subject, all of them ValueErrors or RuntimeErrors."""


class CorruptDataError(ValueError):
    """Bytes or arrays differ from what was expected (hash, shape, dtype, format)."""


class DatasetUnavailableError(RuntimeError):
    """No cache and no reachable source: the message says where to put the file."""


# A message quoting a file's content (a 10 MB "activation", a list of 20,000 names) is cut to this
# many characters, its beginning and end kept: the readers cut what they quote, this is the net.
MAX_MESSAGE_CHARS = 800


class ModelFileError(ValueError):
    """A file is not a model (or weights) file that this version can read.

    The message names the file and the problem: truncated, corrupt, foreign,
    from a newer format version, or not matching the model it is loaded into.
    It is never longer than MAX_MESSAGE_CHARS.
    """

    def __init__(self, message=""):
        message = str(message)
        if len(message) > MAX_MESSAGE_CHARS:
            cut = len(message) - MAX_MESSAGE_CHARS + 40
            message = f"{message[:500]} [... {cut:,} characters ...] {message[-(MAX_MESSAGE_CHARS - 540):]}"
        super().__init__(message)


class CacheWarning(UserWarning):
    """A dataset cache could not be read (it is fetched again) or written (the data is returned anyway)."""


class KerasFileError(ModelFileError):
    """A Keras file tinynet cannot read: damaged, hostile, or describing a model tinynet cannot build exactly."""


class KerasFileWarning(UserWarning):
    """Something a Keras file holds that tinynet reads without (it changes training only, never predictions),
    or a setting of a tinynet model that a Keras file cannot hold, named when the file is written."""
