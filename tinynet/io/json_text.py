"""JSON text from a file, parsed at a bounded cost: the configs inside Keras's ``.h5`` and ``.keras`` files."""
import json

from .errors import KerasFileError

# A model config is a few kB per layer; anything this large is not one.
MAX_CONFIG_BYTES = 16 * 2 ** 20


def parse_json(text, what, source):
    """``text`` (str or bytes, at most MAX_CONFIG_BYTES) parsed as JSON, or KerasFileError."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise KerasFileError(f"{source}: {what} is not UTF-8 text ({error})") from None
    if not isinstance(text, str):
        raise KerasFileError(f"{source}: {what} should be a JSON string, found {type(text).__name__}")
    if len(text) > MAX_CONFIG_BYTES:
        raise KerasFileError(f"{source}: {what} is {len(text):,} characters long; tinynet reads at most "
                             f"{MAX_CONFIG_BYTES:,} (a model config is a few kB per layer)")
    try:
        # parse_constant: Keras writes NaN/Infinity nowhere in a config; refuse them too.
        return json.loads(text, parse_constant=no_constant)
    except (ValueError, RecursionError) as error:
        raise KerasFileError(f"{source}: {what} is not valid JSON ({str(error)[:200]})") from None


def no_constant(name):
    raise ValueError(f"{name} is not allowed")
