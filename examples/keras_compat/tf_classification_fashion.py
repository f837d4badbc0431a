"""TensorFlow's "Basic classification: Classify images of clothing" (Fashion-MNIST), its model cells.

Source: github.com/tensorflow/docs, site/en/tutorials/keras/classification.ipynb, commit
023b91c89dc06b3c6462d8426cc655acd452282e (Apache 2.0; tensorflow.org/tutorials/keras/classification).
Published: about 0.91 training accuracy after 10 epochs, a little less on the test set.

Changed from the original: the imports only.
    import tensorflow as tf                    -> import tinynet as tf
    from tensorflow import keras               -> from tinynet import keras

Left out: the cells that only draw with matplotlib (the image grids and the ``plot_image`` /
``plot_value_array`` helpers); every cell that uses Keras is here, in order.

Run: python examples/keras_compat/run.py tf_classification_fashion.py [--quick]
"""

# TensorFlow and tf.keras
import tinynet as tf
from tinynet import keras

# Helper libraries
import numpy as np
import matplotlib.pyplot as plt

print(tf.__version__)

fashion_mnist = keras.datasets.fashion_mnist

(train_images, train_labels), (test_images, test_labels) = fashion_mnist.load_data()

class_names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
               'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']

train_images.shape
len(train_labels)
train_labels
test_images.shape
len(test_labels)

train_images = train_images / 255.0

test_images = test_images / 255.0

model = keras.Sequential([
    keras.layers.Flatten(input_shape=(28, 28)),
    keras.layers.Dense(128, activation='relu'),
    keras.layers.Dense(10)
])

model.compile(optimizer='adam',
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=['accuracy'])

model.fit(train_images, train_labels, epochs=10)

test_loss, test_acc = model.evaluate(test_images,  test_labels, verbose=2)

print('\nTest accuracy:', test_acc)

probability_model = tf.keras.Sequential([model,
                                         tf.keras.layers.Softmax()])

predictions = probability_model.predict(test_images)

predictions[0]

np.argmax(predictions[0])

test_labels[0]

# Grab an image from the test dataset.
img = test_images[1]

print(img.shape)

# Add the image to a batch where it's the only member.
img = (np.expand_dims(img,0))

print(img.shape)

predictions_single = probability_model.predict(img)

print(predictions_single)

np.argmax(predictions_single[0])
