import os

import matplotlib
import pytest

matplotlib.use("Agg")

# Keep hypothesis fast and deterministic in CI.
from hypothesis import settings  # noqa: E402

settings.register_profile("tinynet", deadline=None, derandomize=True, max_examples=30)
settings.load_profile("tinynet")


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state, so failures reproduce."""
    import tinynet
    tinynet.set_random_seed(0)
    yield


@pytest.fixture
def has_mnist():
    from tinynet.datasets import mnist
    try:
        mnist.load_data()
    except Exception as error:  # noqa: BLE001 - any failure means the data is not here
        pytest.skip(f"MNIST not available: {error}")
    return True


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def model_state(model):
    """Everything a refused call must leave as it was: each weight's name, dtype, shape and bytes (moving
    statistics included), and the optimizer's settings, step count and state arrays."""
    weights = [(p.name, p.data.dtype, p.data.shape, p.data.tobytes()) for p in model.weights]
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return weights, None
    slots = [(i, key, value.dtype, value.tobytes()) for i, p in enumerate(model.weights)
             for key, value in sorted(optimizer.state.get(p, {}).items())]
    return weights, (type(optimizer).__name__, repr(optimizer.get_config()), optimizer.iterations, slots)


def files_in(*directories):
    """``{path: bytes}`` of every file below ``directories``."""
    from pathlib import Path
    return {str(path): path.read_bytes() for directory in directories for path in sorted(Path(directory).rglob("*"))
            if path.is_file()}


@pytest.fixture
def unchanged():
    """``with unchanged(model, tmp_path): ...`` fails unless the block leaves the model (weights, optimizer),
    tinynet's random state and every file below the given directories exactly as they were."""
    import contextlib

    from tinynet.core.utils import rng

    @contextlib.contextmanager
    def check(model, *directories):
        before = model_state(model), files_in(*directories), rng().bit_generator.state
        yield
        after = model_state(model), files_in(*directories), rng().bit_generator.state
        assert after[0] == before[0], "the model or its optimizer changed"
        assert after[1] == before[1], "files changed"
        assert after[2] == before[2], "tinynet's random state changed"
    return check
