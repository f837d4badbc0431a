"""A small MNIST convnet, written the way Keras 2's ``examples/mnist_cnn.py`` is written.

Mirrors: Keras's ``examples/mnist_cnn.py`` (Keras 2), github.com/keras-team/keras,
examples/mnist_cnn.py, commit 05676872b9a772d21da0afab92dc515b3738e54d (MIT licence), which
reports 99.25 % test accuracy after 12 epochs.

This is tinynet's own script, not a copy of that one: the published text is not ours to commit.
It makes the same Keras calls in the same order: ``K.image_data_format()`` to choose the image
layout, ``keras.utils.to_categorical``, a ``Sequential`` of ``Conv2D(32, kernel_size=(3, 3), ...,
input_shape=)``, ``Conv2D(64, (3, 3))``, ``MaxPooling2D(pool_size=)``, ``Dropout``, ``Flatten``,
``Dense``; ``compile`` with the loss *function* ``keras.losses.categorical_crossentropy`` and
``keras.optimizers.Adadelta()``; ``fit(..., validation_data=)``; ``evaluate``. Imports as a Keras
user's with ``keras`` swapped for ``tinynet``.

NOTE: Keras 2.0's ``Adadelta()`` used ``lr=1.0``; tf.keras, Keras 3 and tinynet use
``learning_rate=0.001``, with which this network learns far more slowly than the published numbers.

Run: python examples/keras_compat/run.py keras2_mnist_cnn.py [--quick]
"""
import tinynet as keras
from tinynet.datasets import mnist
from tinynet.models import Sequential
from tinynet.layers import Dense, Dropout, Flatten
from tinynet.layers import Conv2D, MaxPooling2D
from tinynet import backend as K

CLASSES = 10
BATCH = 128
EPOCHS = 12
HEIGHT = WIDTH = 28

(train_x, train_y), (test_x, test_y) = mnist.load_data()


def with_channel_axis(images):
    """(N, 28, 28) -> the 4-D layout the backend says convolutions expect."""
    if K.image_data_format() == 'channels_first':
        return images.reshape(images.shape[0], 1, HEIGHT, WIDTH)
    return images.reshape(images.shape[0], HEIGHT, WIDTH, 1)


train_x, test_x = with_channel_axis(train_x), with_channel_axis(test_x)
image_shape = train_x.shape[1:]

train_x = train_x.astype('float32')
test_x = test_x.astype('float32')
train_x /= 255
test_x /= 255
print('images:', train_x.shape, '-', len(train_x), 'for training,', len(test_x), 'for testing')

train_y = keras.utils.to_categorical(train_y, CLASSES)
test_y = keras.utils.to_categorical(test_y, CLASSES)

convnet = Sequential()
convnet.add(Conv2D(32, kernel_size=(3, 3), activation='relu', input_shape=image_shape))
convnet.add(Conv2D(64, (3, 3), activation='relu'))
convnet.add(MaxPooling2D(pool_size=(2, 2)))
convnet.add(Dropout(0.25))
convnet.add(Flatten())
convnet.add(Dense(128, activation='relu'))
convnet.add(Dropout(0.5))
convnet.add(Dense(CLASSES, activation='softmax'))

convnet.compile(loss=keras.losses.categorical_crossentropy,
                optimizer=keras.optimizers.Adadelta(),
                metrics=['accuracy'])

convnet.fit(train_x, train_y, batch_size=BATCH, epochs=EPOCHS, verbose=1,
            validation_data=(test_x, test_y))
test_scores = convnet.evaluate(test_x, test_y, verbose=0)
print('test loss', test_scores[0], '- test accuracy', test_scores[1])
