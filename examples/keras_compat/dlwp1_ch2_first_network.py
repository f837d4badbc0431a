"""A first MNIST network, written the way *Deep Learning with Python* (1st ed.) section 2.1 writes it.

Mirrors: *Deep Learning with Python*, 1st edition, 2.1 "A first look at a neural network",
github.com/fchollet/deep-learning-with-python-notebooks,
first_edition/2.1-a-first-look-at-a-neural-network.ipynb, commit 34d0dea6709e1da8404374b169299b0c689177b4
(MIT licence; the notebook ran Keras 2.0.8), which prints acc 0.9890 after 5 epochs and test_acc 0.9777.

This is tinynet's own script, not a copy of that notebook: the published text is not ours to
commit. It makes the notebook's Keras calls in the same order, with ``keras`` swapped for
``tinynet`` in the imports: ``keras.__version__``, ``mnist.load_data()``, ``models.Sequential()``
grown with ``add(layers.Dense(512, activation='relu', input_shape=(28 * 28,)))`` and a softmax
``Dense(10)``, ``compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])``
before the data is reshaped, ``to_categorical`` on the labels, ``fit(epochs=5, batch_size=128)``,
``evaluate`` unpacked into loss and accuracy.

Run: python examples/keras_compat/run.py dlwp1_ch2_first_network.py [--quick]
"""
import tinynet as keras
print('library version', keras.__version__)

from tinynet.datasets import mnist

(digits, digit_labels), (held_out, held_out_labels) = mnist.load_data()
print(f"{len(digit_labels)} training digits {digits.shape}, {len(held_out_labels)} test digits {held_out.shape}")
print('first labels:', digit_labels[:5], held_out_labels[:5])

from tinynet import models
from tinynet import layers

# One hidden layer of 512 units, then a probability per digit.
dense_net = models.Sequential()
dense_net.add(layers.Dense(512, activation='relu', input_shape=(28 * 28,)))
dense_net.add(layers.Dense(10, activation='softmax'))
dense_net.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])

# Each image becomes one float32 row of 784 values in [0, 1].
digits = digits.reshape((60000, 28 * 28)).astype('float32') / 255
held_out = held_out.reshape((10000, 28 * 28)).astype('float32') / 255

from tinynet.utils import to_categorical

digit_labels = to_categorical(digit_labels)
held_out_labels = to_categorical(held_out_labels)

dense_net.fit(digits, digit_labels, epochs=5, batch_size=128)
held_out_loss, held_out_acc = dense_net.evaluate(held_out, held_out_labels)
print('accuracy on the test digits:', held_out_acc)
