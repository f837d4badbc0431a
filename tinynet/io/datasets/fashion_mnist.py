"""Fashion-MNIST (Zalando), loaded exactly like ``keras.datasets.fashion_mnist.load_data``.

70,000 grey-scale 28x28 images of clothes in 10 classes (``CLASS_NAMES``),
60,000 for training and 10,000 for testing, pixels 0-255 as uint8. It is a
drop-in replacement for MNIST that is harder: an MLP reaches about 0.88,
a small CNN about 0.91-0.92.

Where the data comes from, first hit wins:

1. the tinynet cache ``~/.tinynet/datasets/fashion_mnist.npz``
   (``$TINYNET_HOME/datasets`` when TINYNET_HOME is set);
2. the four IDX files in Keras's cache ``~/.keras/datasets/fashion-mnist/``
   (read, never written);
3. the four IDX files of the Debian package ``dataset-fashion-mnist``
   (``apt-get install dataset-fashion-mnist``), in ``/usr/share/datasets/fashion-mnist/``;
4. the canonical download of the four ``*.gz`` files, each checked against
   its published sha256.

Whatever the source, the arrays must match ``EXPECTED`` (shape, dtype and
sha256 of the decoded values: the Debian package recompresses the files,
so their bytes differ from the download's, but the decoded arrays are the
same), and the result is cached as one .npz so later loads take ~0.1 s.
"""
import tempfile
from pathlib import Path

from .. import cache, download
from ..cache import ArraySpec
from ..errors import DatasetUnavailableError
from ..idx import read_idx

FILENAME = "fashion_mnist.npz"

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# Array name -> IDX file name, as the Fashion-MNIST authors publish them.
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}

KERAS_SUBDIR = "fashion-mnist"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

# The published files and their sha256 (the checksums TensorFlow Datasets records).
# Keras downloads the same four files from its own mirror.
URLS = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
]
GZ_SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
URL_TIMEOUT = 5.0  # seconds

# sha256 of each decoded array's tobytes() (uint8, C order): what every source must produce.
EXPECTED = {
    "x_train": ArraySpec(
        (60000, 28, 28), "uint8", "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012"
    ),
    "y_train": ArraySpec(
        (60000,), "uint8", "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7"
    ),
    "x_test": ArraySpec(
        (10000, 28, 28), "uint8", "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a"
    ),
    "y_test": ArraySpec(
        (10000,), "uint8", "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9"
    ),
}


def load_data():
    """Load Fashion-MNIST, from a cache when possible, else from the first source that works.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``:
        x_train uint8 (60000, 28, 28), y_train uint8 (60000,) with labels 0-9
        (names in ``CLASS_NAMES``), x_test uint8 (10000, 28, 28), y_test uint8 (10000,).

    Raises:
        DatasetUnavailableError: nothing cached and no source available; the
            message lists what was tried and how to install the Debian package.
    """
    arrays = cache.writable(cache.load_or_fetch(cache.cache_dir() / FILENAME, EXPECTED, _fetch, "Fashion-MNIST"))
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_idx_dir(directory):
    """Read and verify the four Fashion-MNIST IDX files in ``directory``.

    The files may be gzipped (the published ``*.gz`` names) or plain (the same
    names without ``.gz``).

    Returns:
        dict x_train, y_train, x_test, y_test, verified against ``EXPECTED``.

    Raises:
        FileNotFoundError: a file is missing.
        CorruptDataError: a file is not IDX, or its array is not Fashion-MNIST's.
    """
    directory = Path(directory)
    arrays = {}
    for name, filename in IDX_FILES.items():
        path = directory / filename
        if not path.exists() and (directory / filename[:-3]).exists():
            path = directory / filename[:-3]
        arrays[name] = read_idx(path)
    cache.verify_arrays(arrays, EXPECTED, source=str(directory))
    return arrays


def _fetch():
    sources = [
        (str(cache.keras_cache_dir() / KERAS_SUBDIR), lambda: load_idx_dir(cache.keras_cache_dir() / KERAS_SUBDIR)),
        (f"{DEBIAN_DIR} (Debian package dataset-fashion-mnist)", lambda: load_idx_dir(DEBIAN_DIR)),
    ] + [(base, lambda base=base: _download(base)) for base in URLS]
    failures = []
    for name, source in sources:
        try:
            return source()
        except FileNotFoundError as error:
            failures.append(f"  - {name}: {error.filename or error} not found")
        except cache.FETCH_ERRORS as error:
            download.notify(f"Could not get Fashion-MNIST from {name}: {error}")
            failures.append(f"  - {name}: {error}")
    raise DatasetUnavailableError(
        "Could not get Fashion-MNIST from any source:\n" + "\n".join(failures)
        + "\nOn Debian or Ubuntu, `apt-get install dataset-fashion-mnist` installs it offline; or copy the four "
        f"files {sorted(IDX_FILES.values())} to\n  {cache.keras_cache_dir() / KERAS_SUBDIR}")


def _download(base_url):
    with tempfile.TemporaryDirectory() as tmp:
        for filename in IDX_FILES.values():
            download.download(base_url + filename, Path(tmp) / filename, sha256=GZ_SHA256[filename],
                            timeout=URL_TIMEOUT)
        return load_idx_dir(tmp)


__all__ = ["load_data", "load_idx_dir", "CLASS_NAMES"]
