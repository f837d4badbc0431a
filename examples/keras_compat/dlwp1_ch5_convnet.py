"""A first MNIST convnet, written the way *Deep Learning with Python* (1st ed.) section 5.1 writes it.

Mirrors: *Deep Learning with Python*, 1st edition, 5.1 "Introduction to convnets",
github.com/fchollet/deep-learning-with-python-notebooks, first_edition/5.1-introduction-to-convnets.ipynb,
commit 27f60b003ccd7eb8a82b0f416d054b395d611c19 (MIT licence; the notebook ran Keras 2.0.8), whose
summary shows 93,322 parameters and which prints test_acc 0.9913.

This is tinynet's own script, not a copy of that notebook: the published text is not ours to
commit. It makes the notebook's Keras calls in the same order, with ``keras`` swapped for
``tinynet`` in the imports: ``keras.__version__``; ``models.Sequential()`` grown with
``layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1))``,
``layers.MaxPooling2D((2, 2))`` and two more ``Conv2D(64, (3, 3))``; ``summary()``; then
``Flatten``, ``Dense(64)``, ``Dense(10, activation='softmax')`` and ``summary()`` again;
``mnist.load_data()``, reshaping to ``(N, 28, 28, 1)``, ``to_categorical``;
``compile(optimizer='rmsprop', loss='categorical_crossentropy')``, ``fit(epochs=5, batch_size=64)``,
``evaluate``.

Run: python examples/keras_compat/run.py dlwp1_ch5_convnet.py [--quick]
"""
import tinynet as keras
print('library version', keras.__version__)

from tinynet import layers
from tinynet import models

# The convolutional base: 28x28 -> 26x26x32 -> 13x13 -> 11x11x64 -> 5x5 -> 3x3x64.
cnn = models.Sequential()
cnn.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
cnn.add(layers.MaxPooling2D((2, 2)))
cnn.add(layers.Conv2D(64, (3, 3), activation='relu'))
cnn.add(layers.MaxPooling2D((2, 2)))
cnn.add(layers.Conv2D(64, (3, 3), activation='relu'))
cnn.summary()

# The classifier on top of the 3x3x64 feature maps.
cnn.add(layers.Flatten())
cnn.add(layers.Dense(64, activation='relu'))
cnn.add(layers.Dense(10, activation='softmax'))
cnn.summary()

from tinynet.datasets import mnist
from tinynet.utils import to_categorical

(pictures, classes), (test_pictures, test_classes) = mnist.load_data()
pictures = pictures.reshape((60000, 28, 28, 1)).astype('float32') / 255
test_pictures = test_pictures.reshape((10000, 28, 28, 1)).astype('float32') / 255
classes = to_categorical(classes)
test_classes = to_categorical(test_classes)

cnn.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])
cnn.fit(pictures, classes, epochs=5, batch_size=64)

test_loss, test_accuracy = cnn.evaluate(test_pictures, test_classes)
print('test accuracy', test_accuracy)
