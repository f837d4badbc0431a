"""Keras's own ``examples/mnist_mlp.py`` (Keras 2.0): a 512-512 MLP with Dropout and RMSprop.

Source: github.com/keras-team/keras, examples/mnist_mlp.py, commit 10bfb1c565582803982e2205d41b095bc929d4a4
(MIT licence). The published script says it reaches 98.40 % test accuracy after 20 epochs.

Changed from the original: the imports only.
    from keras.datasets import mnist          -> from tinynet.datasets import mnist
    from keras.models import Sequential       -> from tinynet.models import Sequential
    from keras.layers import Dense, ...       -> from tinynet.layers import Dense, ...
    from keras.optimizers import RMSprop      -> from tinynet.optimizers import RMSprop
    from keras.utils import np_utils          -> from tinynet.utils import np_utils

Run: python examples/keras_compat/run.py keras2_mnist_mlp.py [--quick]
"""

from __future__ import print_function
import numpy as np
np.random.seed(1337)  # for reproducibility

from tinynet.datasets import mnist
from tinynet.models import Sequential
from tinynet.layers import Dense, Dropout, Activation
from tinynet.optimizers import RMSprop
from tinynet.utils import np_utils


batch_size = 128
num_classes = 10
epochs = 20

# the data, shuffled and split between train and test sets
(x_train, y_train), (x_test, y_test) = mnist.load_data()

x_train = x_train.reshape(60000, 784)
x_test = x_test.reshape(10000, 784)
x_train = x_train.astype('float32')
x_test = x_test.astype('float32')
x_train /= 255
x_test /= 255
print(x_train.shape[0], 'train samples')
print(x_test.shape[0], 'test samples')

# convert class vectors to binary class matrices
y_train = np_utils.to_categorical(y_train, num_classes)
y_test = np_utils.to_categorical(y_test, num_classes)

model = Sequential()
model.add(Dense(512, activation='relu', input_shape=(784,)))
model.add(Dropout(0.2))
model.add(Dense(512, activation='relu'))
model.add(Dropout(0.2))
model.add(Dense(10, activation='softmax'))

model.summary()

model.compile(loss='categorical_crossentropy',
              optimizer=RMSprop(),
              metrics=['accuracy'])

history = model.fit(x_train, y_train,
                    batch_size=batch_size, epochs=epochs,
                    verbose=1, validation_data=(x_test, y_test))
score = model.evaluate(x_test, y_test, verbose=0)
print('Test loss:', score[0])
print('Test accuracy:', score[1])
