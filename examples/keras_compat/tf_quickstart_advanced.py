"""TensorFlow 2 quickstart for experts: a subclassed Model trained by a GradientTape loop over tf.data.

Source: github.com/tensorflow/docs, site/en/tutorials/quickstart/advanced.ipynb, commit
023b91c89dc06b3c6462d8426cc655acd452282e (Copyright 2019 The TensorFlow Authors, Apache License 2.0;
tensorflow.org/tutorials/quickstart/advanced). Published: about 98 % test accuracy after 5 epochs.
The notebook's code cells, in order.

Changed from the original: the imports only.
    import tensorflow as tf                              -> import tinynet as tf
    from tensorflow.keras.layers import Dense, ...       -> from tinynet.keras.layers import Dense, ...
    from tensorflow.keras import Model                   -> from tinynet.keras import Model

What it asks of tinynet: ``tf.newaxis``, ``tf.data.Dataset.from_tensor_slices(...).shuffle().batch()``, a
subclassed ``Model`` with ``call``, ``@tf.function``, ``tf.GradientTape``, ``model.trainable_variables``,
``optimizer.apply_gradients``, ``tf.keras.metrics.Mean`` and ``SparseCategoricalAccuracy`` called as functions.

Run: python examples/keras_compat/run.py tf_quickstart_advanced.py [--quick]
"""

import tinynet as tf

from tinynet.keras.layers import Dense, Flatten, Conv2D
from tinynet.keras import Model

mnist = tf.keras.datasets.mnist

(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_train, x_test = x_train / 255.0, x_test / 255.0

# Add a channels dimension
x_train = x_train[..., tf.newaxis]
x_test = x_test[..., tf.newaxis]

train_ds = tf.data.Dataset.from_tensor_slices(
    (x_train, y_train)).shuffle(10000).batch(32)

test_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(32)

class MyModel(Model):
  def __init__(self):
    super(MyModel, self).__init__()
    self.conv1 = Conv2D(32, 3, activation='relu')
    self.flatten = Flatten()
    self.d1 = Dense(128, activation='relu')
    self.d2 = Dense(10)

  def call(self, x):
    x = self.conv1(x)
    x = self.flatten(x)
    x = self.d1(x)
    return self.d2(x)

# Create an instance of the model
model = MyModel()

loss_object = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

optimizer = tf.keras.optimizers.Adam()

train_loss = tf.keras.metrics.Mean(name='train_loss')
train_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name='train_accuracy')

test_loss = tf.keras.metrics.Mean(name='test_loss')
test_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name='test_accuracy')

@tf.function
def train_step(images, labels):
  with tf.GradientTape() as tape:
    # training=True is only needed if there are layers with different
    # behavior during training versus inference (e.g. Dropout).
    predictions = model(images, training=True)
    loss = loss_object(labels, predictions)
  gradients = tape.gradient(loss, model.trainable_variables)
  optimizer.apply_gradients(zip(gradients, model.trainable_variables))

  train_loss(loss)
  train_accuracy(labels, predictions)

@tf.function
def test_step(images, labels):
  # training=False is only needed if there are layers with different
  # behavior during training versus inference (e.g. Dropout).
  predictions = model(images, training=False)
  t_loss = loss_object(labels, predictions)

  test_loss(t_loss)
  test_accuracy(labels, predictions)

EPOCHS = 5

for epoch in range(EPOCHS):
  # Reset the metrics at the start of the next epoch
  train_loss.reset_states()
  train_accuracy.reset_states()
  test_loss.reset_states()
  test_accuracy.reset_states()

  for images, labels in train_ds:
    train_step(images, labels)

  for test_images, test_labels in test_ds:
    test_step(test_images, test_labels)

  template = 'Epoch {}, Loss: {}, Accuracy: {}, Test Loss: {}, Test Accuracy: {}'
  print(template.format(epoch + 1,
                        train_loss.result(),
                        train_accuracy.result() * 100,
                        test_loss.result(),
                        test_accuracy.result() * 100))
