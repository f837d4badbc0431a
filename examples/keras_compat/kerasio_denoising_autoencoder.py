"""A convolutional autoencoder that learns to clean noisy MNIST digits, written the way keras.io's
"Convolutional Autoencoder For Image Denoising" is written.

Mirrors: keras.io example "Convolutional Autoencoder For Image Denoising", github.com/keras-team/keras-io,
examples/vision/autoencoder.py, commit 28033e1c219da0430c695fdcbee81552b8c5f594 (Santiago L. Valdarrama,
2021; Apache License 2.0; keras.io/examples/vision/autoencoder/).

This is tinynet's own script, not a copy of that example: the published text is not ours to commit.
It makes the example's calls in the same order, with ``tensorflow`` swapped for ``tinynet`` in the
imports (``from tinynet.keras.models import Model``, ``from tinynet.keras.layers import Conv2D, ...``,
``from tinynet.keras.datasets import mnist``): ``mnist.load_data()`` keeping only the images, scaled to
[0, 1] and reshaped to ``(N, 28, 28, 1)``; Gaussian noise (``np.random.normal``) clipped to [0, 1]; a
matplotlib grid of clean and noisy images; a functional model from ``Input(shape=(28, 28, 1))`` through
``Conv2D(32, (3, 3), activation="relu", padding="same")``, ``MaxPooling2D((2, 2), padding="same")``,
``UpSampling2D((2, 2))`` to a sigmoid ``Conv2D(1, ...)``, ``Model(input, output)`` given by position;
``compile(optimizer="adam", loss="binary_crossentropy")``; ``summary``;
``fit(x=, y=, epochs=50, batch_size=128, shuffle=True, validation_data=)`` to reproduce clean images,
``predict``; then ``fit(epochs=100)`` from noisy inputs to clean targets, ``predict`` on the noisy test set.

Run: python examples/keras_compat/run.py kerasio_denoising_autoencoder.py [--quick]
"""
import numpy as np
import tinynet as tf  # noqa: F401  (imported as the example imports TensorFlow)
import matplotlib.pyplot as plt

from tinynet.keras.models import Model
from tinynet.keras.layers import Conv2D, MaxPooling2D, Input, UpSampling2D
from tinynet.keras.datasets import mnist

NOISE = 0.4     # standard deviation of the added noise, in units of full brightness
SHOWN = 10      # images per row of a comparison figure


def as_images(raw):
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]."""
    return np.reshape(raw.astype("float32") / 255.0, (len(raw), 28, 28, 1))


def corrupt(images):
    """Add N(0, NOISE^2) to every pixel and clip back to the valid range."""
    return np.clip(images + NOISE * np.random.normal(loc=0.0, scale=1.0, size=images.shape), 0.0, 1.0)


def compare(top_row, bottom_row):
    """Show the same randomly chosen images from two sets, one set per row."""
    picks = np.random.randint(len(top_row), size=SHOWN)
    plt.figure(figsize=(2 * SHOWN, 4))
    for row, images in enumerate((top_row, bottom_row)):
        for column, image in enumerate(images[picks]):
            axes = plt.subplot(2, SHOWN, row * SHOWN + column + 1)
            plt.imshow(image.reshape(28, 28))
            plt.gray()
            axes.get_xaxis().set_visible(False)
            axes.get_yaxis().set_visible(False)
    plt.show()


# The labels are never needed: the targets are the images themselves.
(clean_train, _), (clean_test, _) = mnist.load_data()
clean_train, clean_test = as_images(clean_train), as_images(clean_test)
noisy_train, noisy_test = corrupt(clean_train), corrupt(clean_test)
compare(clean_train, noisy_train)

image = Input(shape=(28, 28, 1))
# Encoder: 28x28 -> 14x14 -> 7x7, 32 channels.
t = Conv2D(32, (3, 3), activation="relu", padding="same")(image)
t = MaxPooling2D((2, 2), padding="same")(t)
t = Conv2D(32, (3, 3), activation="relu", padding="same")(t)
t = MaxPooling2D((2, 2), padding="same")(t)
# Decoder: back up to 28x28; the sigmoid keeps every output pixel in (0, 1).
t = Conv2D(32, (3, 3), activation="relu", padding="same")(t)
t = UpSampling2D((2, 2))(t)
t = Conv2D(32, (3, 3), activation="relu", padding="same")(t)
t = UpSampling2D((2, 2))(t)
t = Conv2D(1, (3, 3), activation="sigmoid", padding="same")(t)

autoencoder = Model(image, t)
# Each pixel is a probability-like target, so binary cross-entropy is a natural reconstruction loss.
autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
autoencoder.summary()

# First learn to reproduce clean digits...
autoencoder.fit(x=clean_train, y=clean_train, epochs=50, batch_size=128, shuffle=True,
                validation_data=(clean_test, clean_test))
reconstructed = autoencoder.predict(clean_test)
compare(clean_test, reconstructed)

# ...then to map noisy digits to their clean originals.
autoencoder.fit(x=noisy_train, y=clean_train, epochs=100, batch_size=128, shuffle=True,
                validation_data=(noisy_test, clean_test))
denoised = autoencoder.predict(noisy_test)
compare(noisy_test, denoised)
