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
