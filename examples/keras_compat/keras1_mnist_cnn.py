"""A small MNIST convnet in Keras 1 spellings, written the way Keras 1.2's ``examples/mnist_cnn.py`` is.

Mirrors: Keras's ``examples/mnist_cnn.py`` as of the Keras 1.2 releases (github.com/keras-team/keras,
tag 1.2.2; MIT licence), which reports 99.25 % test accuracy after 12 epochs.

This is tinynet's own script, not a copy of that one: the published text is not ours to commit.
It makes the same Keras 1 calls in the same order, the form older tutorials and answers still
paste: ``K.image_dim_ordering()`` (``'th'`` or ``'tf'``), ``np_utils.to_categorical``,
``Convolution2D(nb_filter, nb_row, nb_col, border_mode='valid', input_shape=)``, separate
``Activation`` layers, ``MaxPooling2D(pool_size=)``, ``Dropout``, ``Flatten``, ``Dense``,
``compile(optimizer='adadelta')``, ``fit(..., nb_epoch=, validation_data=)``, ``evaluate``.
Imports as a Keras user's with ``keras`` swapped for ``tinynet``.

Run: python examples/keras_compat/run.py keras1_mnist_cnn.py [--quick]
"""
import numpy as np

from tinynet.datasets import mnist
from tinynet.models import Sequential
from tinynet.layers import Dense, Dropout, Activation, Flatten
from tinynet.layers import Convolution2D, MaxPooling2D
from tinynet.utils import np_utils
from tinynet import backend as K

np.random.seed(7)

n_classes = 10
n_epochs = 12
batch = 128
side = 28
filters = 32      # both convolutions; Keras 2's version grows the second to 64
kernel_rows, kernel_cols = 3, 3
pooling = (2, 2)

(X_tr, labels_tr), (X_te, labels_te) = mnist.load_data()

# Theano ordering puts the channel before the rows; TensorFlow ordering after the columns.
if K.image_dim_ordering() == 'th':
    new_shape = (1, side, side)
else:
    new_shape = (side, side, 1)
X_tr = X_tr.reshape((X_tr.shape[0],) + new_shape).astype('float32') / 255
X_te = X_te.reshape((X_te.shape[0],) + new_shape).astype('float32') / 255
print('training images', X_tr.shape, '/ test images', X_te.shape)

Y_tr = np_utils.to_categorical(labels_tr, n_classes)
Y_te = np_utils.to_categorical(labels_te, n_classes)

net = Sequential()
net.add(Convolution2D(filters, kernel_rows, kernel_cols, border_mode='valid', input_shape=new_shape))
net.add(Activation('relu'))
net.add(Convolution2D(filters, kernel_rows, kernel_cols))
net.add(Activation('relu'))
net.add(MaxPooling2D(pool_size=pooling))
net.add(Dropout(0.25))
net.add(Flatten())
net.add(Dense(128))
net.add(Activation('relu'))
net.add(Dropout(0.5))
net.add(Dense(n_classes))
net.add(Activation('softmax'))

net.compile(loss='categorical_crossentropy', optimizer='adadelta', metrics=['accuracy'])
net.fit(X_tr, Y_tr, batch_size=batch, nb_epoch=n_epochs, verbose=1, validation_data=(X_te, Y_te))

test_scores = net.evaluate(X_te, Y_te, verbose=0)
print('test loss %.4f, test accuracy %.4f' % (test_scores[0], test_scores[1]))
