"""Keras 2's ``keras.preprocessing``: ``image.ImageDataGenerator`` (Keras 3's replacement is the preprocessing
layers, ``tinynet.layers.RandomRotation`` and friends)."""
from . import image

__all__ = ["image"]
