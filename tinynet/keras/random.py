"""``tf.random.set_seed`` / ``keras.random``'s seeding, for scripts that seed through TensorFlow.

``set_seed(s)`` is ``tinynet.set_random_seed(s)``: it seeds every random draw tinynet makes
(weight initialisation, dropout masks, shuffling), NumPy's global generator and Python's ``random``.
"""
from ..core.utils import set_random_seed as set_seed

__all__ = ["set_seed"]
