"""A subclassed MNIST model trained by a GradientTape loop, written the way TensorFlow's quickstart for experts is written.

Mirrors: TensorFlow 2 quickstart for experts, github.com/tensorflow/docs,
site/en/tutorials/quickstart/advanced.ipynb, commit 023b91c89dc06b3c6462d8426cc655acd452282e
(Apache License 2.0; tensorflow.org/tutorials/quickstart/advanced), which reports about 98 % test
accuracy after 5 epochs.

This is tinynet's own script, not a copy of that notebook: the published text is not ours to
commit. It makes the notebook's TensorFlow / Keras calls in the same order, with ``tensorflow``
swapped for ``tinynet`` in the imports: ``x[..., tf.newaxis]``;
``tf.data.Dataset.from_tensor_slices((x, y)).shuffle(10000).batch(32)``; a ``Model`` subclass whose
``__init__`` makes ``Conv2D(32, 3, activation='relu')``, ``Flatten``, ``Dense(128)``, ``Dense(10)`` and
whose ``call`` chains them; ``SparseCategoricalCrossentropy(from_logits=True)``;
``tf.keras.optimizers.Adam()``; ``tf.keras.metrics.Mean`` and ``SparseCategoricalAccuracy`` objects
with ``name=``; two ``@tf.function`` steps, the training one under ``tf.GradientTape()`` with
``tape.gradient(loss, model.trainable_variables)`` and ``optimizer.apply_gradients(zip(...))``; an
epoch loop calling ``reset_states()`` and printing each metric's ``result()``.

Run: python examples/keras_compat/run.py tf_quickstart_advanced.py [--quick]
"""
import tinynet as tf

from tinynet.keras.layers import Dense, Flatten, Conv2D
from tinynet.keras import Model

(train_x, train_y), (test_x, test_y) = tf.keras.datasets.mnist.load_data()
train_x, test_x = train_x / 255.0, test_x / 255.0
# Conv2D wants a channel axis: (N, 28, 28) -> (N, 28, 28, 1).
train_x = train_x[..., tf.newaxis]
test_x = test_x[..., tf.newaxis]

train_batches = tf.data.Dataset.from_tensor_slices((train_x, train_y)).shuffle(10000).batch(32)
test_batches = tf.data.Dataset.from_tensor_slices((test_x, test_y)).batch(32)


class ConvClassifier(Model):
    """conv 3x3 (32, relu) -> flatten -> dense 128 (relu) -> 10 logits."""

    def __init__(self):
        super().__init__()
        self.conv = Conv2D(32, 3, activation='relu')
        self.flat = Flatten()
        self.hidden = Dense(128, activation='relu')
        self.to_logits = Dense(10)

    def call(self, x):
        return self.to_logits(self.hidden(self.flat(self.conv(x))))


model = ConvClassifier()
cross_entropy = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
adam = tf.keras.optimizers.Adam()

# Running averages over an epoch: the loss per batch, the accuracy per image.
train_loss = tf.keras.metrics.Mean(name='mean_training_loss')
train_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name='training_accuracy')
test_loss = tf.keras.metrics.Mean(name='mean_test_loss')
test_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name='test_accuracy')


@tf.function
def learn_from(images, labels):
    with tf.GradientTape() as tape:
        logits = model(images, training=True)
        loss = cross_entropy(labels, logits)
    grads = tape.gradient(loss, model.trainable_variables)
    adam.apply_gradients(zip(grads, model.trainable_variables))
    train_loss(loss)
    train_accuracy(labels, logits)


@tf.function
def score_on(images, labels):
    logits = model(images, training=False)
    test_loss(cross_entropy(labels, logits))
    test_accuracy(labels, logits)


for epoch in range(1, 6):
    for metric in (train_loss, train_accuracy, test_loss, test_accuracy):
        metric.reset_states()
    for images, labels in train_batches:
        learn_from(images, labels)
    for images, labels in test_batches:
        score_on(images, labels)
    print(f'epoch {epoch}: training loss {float(train_loss.result()):.4f}, '
          f'accuracy {100 * float(train_accuracy.result()):.2f} %; '
          f'test loss {float(test_loss.result()):.4f}, accuracy {100 * float(test_accuracy.result()):.2f} %')
