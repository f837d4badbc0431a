"""Functional-API models on MNIST-shaped data, written the way keras.io's guide "The Functional API"
(TensorFlow version) writes them: an MLP trained, evaluated, saved and loaded; a convolutional encoder
and a Conv2DTranspose / UpSampling2D decoder, as one model and as nested models; an ensemble averaged
by ``layers.average``; a toy ResNet's graph joined by ``layers.add``.

Mirrors: keras.io guide "The Functional API", github.com/keras-team/keras-io, guides/functional_api.py,
commit 14a2af7ef8d0558837cb98378504421e55f0d980 (fchollet; Apache License 2.0;
keras.io/guides/functional_api/), from its start to the end of "Use the same graph of layers to define
multiple models", "All models are callable", and the toy ResNet's model and plot. Its ticket-routing
model (Embedding and LSTM, which tinynet does not have), the toy ResNet's CIFAR-10 training (no CIFAR-10
offline here) and the sections after it have no counterpart.

This is tinynet's own script, not a copy of that guide: the published text is not ours to commit.
It makes the guide's calls in the same order, with ``tensorflow`` swapped for ``tinynet`` in the
imports: ``keras.Input(shape=)`` and its ``.shape`` / ``.dtype``; a layer object made, then called on a
symbolic tensor; ``keras.Model(inputs=, outputs=, name=)``; ``summary``; ``keras.utils.plot_model``
(with and without ``show_shapes=True``); ``compile`` with ``SparseCategoricalCrossentropy(from_logits=True)``
and ``keras.optimizers.RMSprop()``; ``fit(batch_size=64, epochs=2, validation_split=0.2)``;
``evaluate(verbose=2)``; ``model.save(path)`` then ``keras.models.load_model(path)``; ``Conv2D``,
``MaxPooling2D``, ``GlobalMaxPooling2D``, ``Reshape``, ``Conv2DTranspose``, ``UpSampling2D``;
``keras.Model(input, output, name=)`` given by position; models called on symbolic tensors;
``layers.average``; ``Conv2D(padding="same")``, ``layers.add``, ``GlobalAveragePooling2D``, ``Dropout``.

Run: python examples/keras_compat/run.py kerasio_functional_api.py [--quick]   (writes its plots and saved
model into the current folder, as the guide does)
"""
import numpy as np
import tinynet as tf  # noqa: F401  (imported as the guide imports TensorFlow)
from tinynet import keras
from tinynet.keras import layers

# A symbolic input says what one sample looks like; the batch axis is left open.
flat_digits = keras.Input(shape=(784,))
colour_images = keras.Input(shape=(32, 32, 3))   # not used below: inputs can be any shape
print("input:", flat_digits.shape, flat_digits.dtype)

first_hidden = layers.Dense(64, activation="relu")
h = first_hidden(flat_digits)
h = layers.Dense(64, activation="relu")(h)
digit_logits = layers.Dense(10)(h)
mlp = keras.Model(inputs=flat_digits, outputs=digit_logits, name="digit_mlp")
mlp.summary()
keras.utils.plot_model(mlp, "digit_mlp.png")
keras.utils.plot_model(mlp, "digit_mlp_shapes.png", show_shapes=True)

(train_x, train_y), (test_x, test_y) = keras.datasets.mnist.load_data()
train_x = train_x.reshape(60000, 784).astype("float32") / 255
test_x = test_x.reshape(10000, 784).astype("float32") / 255

mlp.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            optimizer=keras.optimizers.RMSprop(),
            metrics=["accuracy"])
fit_log = mlp.fit(train_x, train_y, batch_size=64, epochs=2, validation_split=0.2)
scores = mlp.evaluate(test_x, test_y, verbose=2)
print(f"test loss {scores[0]:.4f}, test accuracy {scores[1]:.4f}")

# The saved file holds the graph, the weights and the compile settings.
mlp.save("saved_digit_mlp")
del mlp
mlp = keras.models.load_model("saved_digit_mlp")


def encode(image):
    """(28, 28, 1) -> 26 -> 24 -> pool 3 -> 8 -> 6 -> 4 -> max over space: 16 numbers."""
    t = layers.Conv2D(16, 3, activation="relu")(image)
    t = layers.Conv2D(32, 3, activation="relu")(t)
    t = layers.MaxPooling2D(3)(t)
    t = layers.Conv2D(32, 3, activation="relu")(t)
    t = layers.Conv2D(16, 3, activation="relu")(t)
    return layers.GlobalMaxPooling2D()(t)


def decode(code):
    """16 numbers -> a 4x4 map -> 6 -> 8 -> upsample 3 -> 24 -> 26 -> 28: back to (28, 28, 1)."""
    t = layers.Reshape((4, 4, 1))(code)
    t = layers.Conv2DTranspose(16, 3, activation="relu")(t)
    t = layers.Conv2DTranspose(32, 3, activation="relu")(t)
    t = layers.UpSampling2D(3)(t)
    t = layers.Conv2DTranspose(16, 3, activation="relu")(t)
    return layers.Conv2DTranspose(1, 3, activation="relu")(t)


# One graph, two models: the encoder ends where the autoencoder keeps going.
picture = keras.Input(shape=(28, 28, 1), name="picture")
code = encode(picture)
encoder = keras.Model(picture, code, name="encoder")
encoder.summary()
autoencoder = keras.Model(picture, decode(code), name="autoencoder")
autoencoder.summary()

# The same again as three models, the autoencoder calling the other two as if they were layers.
picture = keras.Input(shape=(28, 28, 1), name="picture_in")
encoder = keras.Model(picture, encode(picture), name="encoder")
encoder.summary()
code_in = keras.Input(shape=(16,), name="code_in")
decoder = keras.Model(code_in, decode(code_in), name="decoder")
decoder.summary()
picture = keras.Input(shape=(28, 28, 1), name="picture")
autoencoder = keras.Model(picture, decoder(encoder(picture)), name="autoencoder")
autoencoder.summary()


def linear_scorer():
    vector = keras.Input(shape=(128,))
    return keras.Model(vector, layers.Dense(1)(vector))


# An ensemble: three models on one input, their outputs averaged.
members = [linear_scorer() for _ in range(3)]
vector = keras.Input(shape=(128,))
ensemble = keras.Model(inputs=vector, outputs=layers.average([member(vector) for member in members]))

# A small residual network: two blocks whose output is added back to their input.
rgb = keras.Input(shape=(32, 32, 3), name="rgb")
t = layers.Conv2D(32, 3, activation="relu")(rgb)
t = layers.Conv2D(64, 3, activation="relu")(t)
skip = layers.MaxPooling2D(3)(t)
for _ in range(2):
    t = layers.Conv2D(64, 3, activation="relu", padding="same")(skip)
    t = layers.Conv2D(64, 3, activation="relu", padding="same")(t)
    skip = layers.add([t, skip])
t = layers.Conv2D(64, 3, activation="relu")(skip)
t = layers.GlobalAveragePooling2D()(t)
t = layers.Dense(256, activation="relu")(t)
t = layers.Dropout(0.5)(t)
resnet = keras.Model(rgb, layers.Dense(10)(t), name="small_resnet")
resnet.summary()
keras.utils.plot_model(resnet, "small_resnet.png", show_shapes=True)
