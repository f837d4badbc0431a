"""Deep Learning with Python (1st edition), chapter 5.1 "Introduction to convnets".

Source: github.com/fchollet/deep-learning-with-python-notebooks,
first_edition/5.1-introduction-to-convnets.ipynb, commit 27f60b003ccd7eb8a82b0f416d054b395d611c19
(MIT licence; the notebook ran Keras 2.0.8). Published: summary with 93,322 parameters; test_acc 0.9913.
The notebook's code cells, in order.

Changed from the original: the imports only.
    import keras                               -> import tinynet as keras
    from keras import layers / models          -> from tinynet import layers / models
    from keras.datasets import mnist           -> from tinynet.datasets import mnist
    from keras.utils import to_categorical     -> from tinynet.utils import to_categorical

Run: python examples/keras_compat/run.py dlwp1_ch5_convnet.py [--quick]
"""

import tinynet as keras
keras.__version__

from tinynet import layers
from tinynet import models

model = models.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))

model.summary()

model.add(layers.Flatten())
model.add(layers.Dense(64, activation='relu'))
model.add(layers.Dense(10, activation='softmax'))

model.summary()

from tinynet.datasets import mnist
from tinynet.utils import to_categorical

(train_images, train_labels), (test_images, test_labels) = mnist.load_data()

train_images = train_images.reshape((60000, 28, 28, 1))
train_images = train_images.astype('float32') / 255

test_images = test_images.reshape((10000, 28, 28, 1))
test_images = test_images.astype('float32') / 255

train_labels = to_categorical(train_labels)
test_labels = to_categorical(test_labels)

model.compile(optimizer='rmsprop',
              loss='categorical_crossentropy',
              metrics=['accuracy'])
model.fit(train_images, train_labels, epochs=5, batch_size=64)

test_loss, test_acc = model.evaluate(test_images, test_labels)

test_acc
