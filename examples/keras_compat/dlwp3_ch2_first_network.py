"""A first MNIST network in Keras 3 style, written the way *Deep Learning with Python* (3rd ed.) chapter 2 writes it.

Mirrors: *Deep Learning with Python*, 3rd edition (Keras 3), chapter 2, its first section,
github.com/fchollet/deep-learning-with-python-notebooks, chapter02_mathematical-building-blocks.ipynb,
commit 131e0d256288f96477036a7db7b7882534b8b40b (MIT licence).

This is tinynet's own script, not a copy of that notebook: the published text is not ours to
commit. It makes the section's Keras calls in the same order, with ``keras`` swapped for
``tinynet`` in the imports: ``mnist.load_data()``; ``keras.Sequential([layers.Dense(512,
activation="relu"), layers.Dense(10, activation="softmax")])`` given no input shape, so it is
built on its first batch; ``compile(optimizer="adam", loss="sparse_categorical_crossentropy")`` with
integer labels; reshaping to ``(N, 784)``; ``fit(epochs=5, batch_size=128)``; ``predict`` on ten
test digits; ``evaluate``. (The notebook's setup cells, which choose a Keras backend, have no
counterpart.)

Run: python examples/keras_compat/run.py dlwp3_ch2_first_network.py [--quick]
"""
from tinynet.datasets import mnist

(x_fit, y_fit), (x_check, y_check) = mnist.load_data()
print("training:", x_fit.shape, len(y_fit), "labels; test:", x_check.shape, len(y_check), "labels")

import tinynet as keras
from tinynet import layers

# No input shape: the first Dense layer makes its kernel when it first sees data.
classifier = keras.Sequential(
    [
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ]
)
classifier.compile(
    optimizer="adam",
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)

x_fit = x_fit.reshape((60000, 28 * 28)).astype("float32") / 255
x_check = x_check.reshape((10000, 28 * 28)).astype("float32") / 255

classifier.fit(x_fit, y_fit, epochs=5, batch_size=128)

first_ten = x_check[0:10]
probabilities = classifier.predict(first_ten)
best = probabilities[0].argmax()
print(f"first test digit: labelled {y_check[0]}, predicted {best} with probability {probabilities[0][best]:.3f}")

check_loss, check_acc = classifier.evaluate(x_check, y_check)
print(f"accuracy on the test digits: {check_acc}")
