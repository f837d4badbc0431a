"""Deep Learning with Python (1st edition), chapter 2.1 "A first look at a neural network".

Source: github.com/fchollet/deep-learning-with-python-notebooks,
first_edition/2.1-a-first-look-at-a-neural-network.ipynb, commit 34d0dea6709e1da8404374b169299b0c689177b4
(MIT licence; the notebook ran Keras 2.0.8). Published: acc 0.9890 after 5 epochs, test_acc 0.9777.
The notebook's code cells, in order.

Changed from the original: the imports only.
    import keras                               -> import tinynet as keras
    from keras.datasets import mnist           -> from tinynet.datasets import mnist
    from keras import models / layers          -> from tinynet import models / layers
    from keras.utils import to_categorical     -> from tinynet.utils import to_categorical

Run: python examples/keras_compat/run.py dlwp1_ch2_first_network.py [--quick]
"""

import tinynet as keras
keras.__version__

from tinynet.datasets import mnist

(train_images, train_labels), (test_images, test_labels) = mnist.load_data()

train_images.shape
len(train_labels)
train_labels
test_images.shape
len(test_labels)
test_labels

from tinynet import models
from tinynet import layers

network = models.Sequential()
network.add(layers.Dense(512, activation='relu', input_shape=(28 * 28,)))
network.add(layers.Dense(10, activation='softmax'))

network.compile(optimizer='rmsprop',
                loss='categorical_crossentropy',
                metrics=['accuracy'])

train_images = train_images.reshape((60000, 28 * 28))
train_images = train_images.astype('float32') / 255

test_images = test_images.reshape((10000, 28 * 28))
test_images = test_images.astype('float32') / 255

from tinynet.utils import to_categorical

train_labels = to_categorical(train_labels)
test_labels = to_categorical(test_labels)

network.fit(train_images, train_labels, epochs=5, batch_size=128)

test_loss, test_acc = network.evaluate(test_images, test_labels)

print('test_acc:', test_acc)
