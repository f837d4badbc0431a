"""Fashion-MNIST with a Flatten-Dense-Dense network, written the way TensorFlow's basic classification tutorial is.

Mirrors: TensorFlow's "Basic classification: Classify images of clothing", github.com/tensorflow/docs,
site/en/tutorials/keras/classification.ipynb, commit 023b91c89dc06b3c6462d8426cc655acd452282e
(Apache 2.0; tensorflow.org/tutorials/keras/classification), which reports about 0.91 training
accuracy after 10 epochs and a little less on the test set.

This is tinynet's own script, not a copy of that notebook: the published text is not ours to
commit. It makes the notebook's TensorFlow / Keras calls in the same order, with
``import tinynet as tf`` and ``from tinynet import keras`` in place of TensorFlow's:
``keras.datasets.fashion_mnist.load_data()``, scaling by 255.0, ``keras.Sequential([Flatten(input_shape=),
Dense(128, activation='relu'), Dense(10)])``, ``compile`` with
``tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)``, ``fit(epochs=10)``,
``evaluate(verbose=2)`` unpacked into loss and accuracy, ``tf.keras.Sequential([model, Softmax()])``,
``predict`` on the test set and on one image made a batch with ``np.expand_dims``. The notebook's
matplotlib cells call no Keras and have no counterpart here.

Run: python examples/keras_compat/run.py tf_classification_fashion.py [--quick]
"""
import tinynet as tf
from tinynet import keras

import numpy as np

print("library version", tf.__version__)

(train_images, train_labels), (test_images, test_labels) = keras.datasets.fashion_mnist.load_data()
garments = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
            'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
print(f"train {train_images.shape} ({len(train_labels)} labels), test {test_images.shape} ({len(test_labels)} labels)")

train_images = train_images / 255.0
test_images = test_images / 255.0

clothes_model = keras.Sequential([
    keras.layers.Flatten(input_shape=(28, 28)),
    keras.layers.Dense(128, activation='relu'),
    keras.layers.Dense(10),
])
clothes_model.compile(optimizer='adam',
                      loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=['accuracy'])
clothes_model.fit(train_images, train_labels, epochs=10)

test_loss, test_accuracy = clothes_model.evaluate(test_images, test_labels, verbose=2)
print('accuracy on the test images:', test_accuracy)

# The model emits logits; a Softmax layer on top turns them into class probabilities.
with_softmax = tf.keras.Sequential([clothes_model, tf.keras.layers.Softmax()])
test_probabilities = with_softmax.predict(test_images)
guess = int(np.argmax(test_probabilities[0]))
print(f"first test image: guessed {garments[guess]}, labelled {garments[test_labels[0]]}")

# predict works on batches, so a single image gets a leading axis of length 1.
one_image = np.expand_dims(test_images[1], 0)
print(test_images[1].shape, '->', one_image.shape)
one_probabilities = with_softmax.predict(one_image)
print(one_probabilities, '->', garments[int(np.argmax(one_probabilities[0]))])

