"""Keras's own ``examples/mnist_cnn.py`` (Keras 2): two convolutions, max-pooling, Dropout, Adadelta.

Source: github.com/keras-team/keras, examples/mnist_cnn.py, commit 05676872b9a772d21da0afab92dc515b3738e54d
(MIT licence). The published script says 99.25 % test accuracy after 12 epochs.

Changed from the original: the imports only.
    import keras                               -> import tinynet as keras
    from keras.datasets import mnist           -> from tinynet.datasets import mnist
    from keras.models import Sequential        -> from tinynet.models import Sequential
    from keras.layers import ...               -> from tinynet.layers import ...
    from keras import backend as K             -> from tinynet import backend as K

NOTE: ``keras.optimizers.Adadelta()`` had ``lr=1.0`` in Keras 2.0; tf.keras and Keras 3 use
``learning_rate=0.001``, and so does tinynet. With 0.001 this script learns far more slowly than
the published numbers (a known surprise for people running it on TF 2).

Run: python examples/keras_compat/run.py keras2_mnist_cnn.py [--quick]
"""

from __future__ import print_function
import tinynet as keras
from tinynet.datasets import mnist
from tinynet.models import Sequential
from tinynet.layers import Dense, Dropout, Flatten
from tinynet.layers import Conv2D, MaxPooling2D
from tinynet import backend as K

batch_size = 128
num_classes = 10
epochs = 12

# input image dimensions
img_rows, img_cols = 28, 28

# the data, shuffled and split between train and test sets
(x_train, y_train), (x_test, y_test) = mnist.load_data()

if K.image_data_format() == 'channels_first':
    x_train = x_train.reshape(x_train.shape[0], 1, img_rows, img_cols)
    x_test = x_test.reshape(x_test.shape[0], 1, img_rows, img_cols)
    input_shape = (1, img_rows, img_cols)
else:
    x_train = x_train.reshape(x_train.shape[0], img_rows, img_cols, 1)
    x_test = x_test.reshape(x_test.shape[0], img_rows, img_cols, 1)
    input_shape = (img_rows, img_cols, 1)

x_train = x_train.astype('float32')
x_test = x_test.astype('float32')
x_train /= 255
x_test /= 255
print('x_train shape:', x_train.shape)
print(x_train.shape[0], 'train samples')
print(x_test.shape[0], 'test samples')

# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = Sequential()
model.add(Conv2D(32, kernel_size=(3, 3),
                 activation='relu',
                 input_shape=input_shape))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Flatten())
model.add(Dense(128, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(num_classes, activation='softmax'))

model.compile(loss=keras.losses.categorical_crossentropy,
              optimizer=keras.optimizers.Adadelta(),
              metrics=['accuracy'])

model.fit(x_train, y_train,
          batch_size=batch_size,
          epochs=epochs,
          verbose=1,
          validation_data=(x_test, y_test))
score = model.evaluate(x_test, y_test, verbose=0)
print('Test loss:', score[0])
print('Test accuracy:', score[1])
