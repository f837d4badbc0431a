"""Deep Learning with Python (3rd edition, Keras 3), chapter 2 "A first look at a neural network".

A model given no input shape (built on the first batch), integer labels, ``predict`` on ten digits.

Source: github.com/fchollet/deep-learning-with-python-notebooks, chapter02_mathematical-building-blocks.ipynb,
commit 131e0d256288f96477036a7db7b7882534b8b40b (MIT licence). The first section's code cells, in order
(the notebook's setup cells, which pick a Keras backend, are left out).

Changed from the original: the imports only.
    from keras.datasets import mnist           -> from tinynet.datasets import mnist
    import keras                               -> import tinynet as keras
    from keras import layers                   -> from tinynet import layers

Run: python examples/keras_compat/run.py dlwp3_ch2_first_network.py [--quick]
"""

from tinynet.datasets import mnist

(train_images, train_labels), (test_images, test_labels) = mnist.load_data()

train_images.shape
len(train_labels)
train_labels
test_images.shape
len(test_labels)
test_labels

import tinynet as keras
from tinynet import layers

model = keras.Sequential(
    [
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ]
)

model.compile(
    optimizer="adam",
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)

train_images = train_images.reshape((60000, 28 * 28))
train_images = train_images.astype("float32") / 255
test_images = test_images.reshape((10000, 28 * 28))
test_images = test_images.astype("float32") / 255

model.fit(train_images, train_labels, epochs=5, batch_size=128)

test_digits = test_images[0:10]
predictions = model.predict(test_digits)
predictions[0]

predictions[0].argmax()

predictions[0][7]

test_labels[0]

test_loss, test_acc = model.evaluate(test_images, test_labels)
print(f"test_acc: {test_acc}")
