"""A two-hidden-layer MNIST MLP, written the way Keras 2's ``examples/mnist_mlp.py`` is written.

Mirrors: Keras's ``examples/mnist_mlp.py`` (Keras 2.0), github.com/keras-team/keras,
examples/mnist_mlp.py, commit 10bfb1c565582803982e2205d41b095bc929d4a4 (MIT licence), which
reports 98.40 % test accuracy after 20 epochs.

This is tinynet's own script, not a copy of that one: the published text is not ours to commit.
It makes the same Keras calls in the same order (``np_utils.to_categorical``, a ``Sequential``
grown with ``add``, ``Dense(..., input_shape=)``, ``Dropout``, ``summary``, ``compile`` with
``RMSprop()``, ``fit(..., validation_data=)``, ``evaluate``), with the imports a Keras user
would write after swapping ``keras`` for ``tinynet``.

Run: python examples/keras_compat/run.py keras2_mnist_mlp.py [--quick]
"""
import numpy as np

from tinynet.datasets import mnist
from tinynet.models import Sequential
from tinynet.layers import Dense, Dropout, Activation  # noqa: F401  (the Keras script imports all three)
from tinynet.optimizers import RMSprop
from tinynet.utils import np_utils

np.random.seed(2024)

N_CLASSES = 10
PIXELS = 28 * 28
BATCH = 128
EPOCHS = 20

(train_x, train_y), (test_x, test_y) = mnist.load_data()

# Flatten each 28x28 image to one row of 784 grey levels in [0, 1].
train_x = train_x.reshape(60000, PIXELS).astype('float32')
test_x = test_x.reshape(10000, PIXELS).astype('float32')
train_x /= 255
test_x /= 255
print(f"{len(train_x)} training images, {len(test_x)} test images")

# categorical_crossentropy wants one-hot targets.
train_y = np_utils.to_categorical(train_y, N_CLASSES)
test_y = np_utils.to_categorical(test_y, N_CLASSES)

mlp = Sequential()
mlp.add(Dense(512, activation='relu', input_shape=(PIXELS,)))
mlp.add(Dropout(0.2))
mlp.add(Dense(512, activation='relu'))
mlp.add(Dropout(0.2))
mlp.add(Dense(N_CLASSES, activation='softmax'))
mlp.summary()

mlp.compile(loss='categorical_crossentropy', optimizer=RMSprop(), metrics=['accuracy'])

log = mlp.fit(train_x, train_y, batch_size=BATCH, epochs=EPOCHS, verbose=1,
              validation_data=(test_x, test_y))
loss_and_accuracy = mlp.evaluate(test_x, test_y, verbose=0)
print('loss on the test set:', loss_and_accuracy[0])
print('accuracy on the test set:', loss_and_accuracy[1])
