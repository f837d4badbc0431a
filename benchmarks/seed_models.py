"""The two articles' models the benchmarks time, and the images they train on, in one place (docs/articles.md).

``cca_mlp()``      the Cambridge Coding Academy MNIST tutorial's 784-512-512-10 MLP with ReLU, Adam (lr 1e-3).
                   ``front`` / ``input_shape`` as tf2_cnn's: the images reshaped to (28, 28, 1), the
                   front layers, then Flatten to the 784 inputs.
``tf2_cnn()``      the TensorFlow 2 MNIST article's CNN: [Conv2D(16/32, 3, same)-BatchNorm-ReLU-MaxPool2] x 2,
                   Dense128-BatchNorm-ReLU, Dense10 softmax, Adam (lr 1e-3; the learning
                   rate does not change the speed). ``front``: layers put before the first
                   convolution (augmentations); ``input_shape=(28, 28, 1)`` takes images with a channel axis.
``mnist_or_random(samples)``  MNIST training images scaled to [0, 1], or random pixels of
                   the same shape when MNIST is not available (speed does not depend on them).

Both models take sparse integer labels. The examples keep their own copies on purpose:
they follow each article's script line by line.
"""
import numpy as np

import tinynet
from tinynet import layers, optimizers
from tinynet.models import Sequential


def cca_mlp(front=(), input_shape=(784,)):
    # images (28, 28[, 1]) or augmentation layers in front: they go to (28, 28, 1), then Flatten to 784
    head = ([] if input_shape == (784,) and not front else
            [layers.Reshape((28, 28, 1), input_shape=input_shape), *front, layers.Flatten()])
    model = Sequential([*head, layers.Dense(512, activation="relu", input_shape=(784,)),
                        layers.Dense(512, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizers.Adam(learning_rate=1e-3), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def tf2_cnn(front=(), input_shape=(28, 28)):
    model = Sequential([
        layers.Reshape((28, 28, 1), input_shape=input_shape), *front,
        layers.Conv2D(16, 3, padding="same"), layers.BatchNormalization(), layers.ReLU(), layers.MaxPooling2D(2),
        layers.Conv2D(32, 3, padding="same"), layers.BatchNormalization(), layers.ReLU(), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(128), layers.BatchNormalization(), layers.ReLU(),
        layers.Dense(10, activation="softmax")])
    model.compile(optimizers.Adam(learning_rate=1e-3), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def mnist_or_random(samples):
    """``(x (N, 28, 28) float32 in [0, 1], y (N,) int, source)`` with N = min(samples, 60000)."""
    try:
        (x, y), _ = tinynet.datasets.mnist.load_data()
        source = "MNIST"
    except Exception:  # noqa: BLE001 - any failure: time on random data instead
        rng = np.random.default_rng(0)
        x, y = rng.integers(0, 256, (samples, 28, 28), dtype=np.uint8), rng.integers(0, 10, samples)
        source = "random data"
    return x[:samples].astype(np.float32) / 255, y[:samples].astype(np.int64), source
