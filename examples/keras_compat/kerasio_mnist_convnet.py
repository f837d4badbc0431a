"""A compact MNIST convnet, written the way keras.io's "Simple MNIST convnet" is written.

Mirrors: keras.io "Simple MNIST convnet" (fchollet, last modified 2020/04/21), github.com/keras-team/keras-io,
examples/vision/mnist_convnet.py, commit 02cfe8063b505adc073986c91729f22039f77ad0 (Apache 2.0),
which reports about 99 % test accuracy.

This is tinynet's own script, not a copy of that one: the published text is not ours to commit.
It makes the same Keras calls in the same order: ``keras.datasets.mnist.load_data()``,
``np.expand_dims`` for the channel axis, ``keras.utils.to_categorical``, ``keras.Sequential`` given
a list that starts with ``keras.Input(shape=...)``, ``layers.Conv2D(..., kernel_size=, activation=)``,
``layers.MaxPooling2D(pool_size=)``, ``Flatten``, ``Dropout``, ``Dense``; ``summary``; ``compile`` with
``"adam"``; ``fit(..., validation_split=0.1)``; ``evaluate``. Imports as a Keras user's with
``tensorflow`` swapped for ``tinynet``.

Run: python examples/keras_compat/run.py kerasio_mnist_convnet.py [--quick]
"""
import numpy as np
import tinynet as keras
from tinynet import layers

CLASSES = 10
SHAPE = (28, 28, 1)

(images, labels), (test_images, test_labels) = keras.datasets.mnist.load_data()


def to_unit_images(raw):
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]."""
    return np.expand_dims(raw.astype("float32") / 255, -1)


images, test_images = to_unit_images(images), to_unit_images(test_images)
print(f"{images.shape[0]} training and {test_images.shape[0]} test images of shape {images.shape[1:]}")

labels = keras.utils.to_categorical(labels, CLASSES)
test_labels = keras.utils.to_categorical(test_labels, CLASSES)

classifier = keras.Sequential(
    [
        keras.Input(shape=SHAPE),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(CLASSES, activation="softmax"),
    ]
)
classifier.summary()

classifier.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
classifier.fit(images, labels, batch_size=128, epochs=15, validation_split=0.1)

results = classifier.evaluate(test_images, test_labels, verbose=0)
print(f"test loss {results[0]:.4f}, test accuracy {results[1]:.4f}")
