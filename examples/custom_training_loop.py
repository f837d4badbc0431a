"""TensorFlow's advanced quickstart with tinynet: a subclassed model trained by a GradientTape loop.

    python examples/custom_training_loop.py            # 60000 images, 5 epochs, as the tutorial
    python examples/custom_training_loop.py --quick    # 256 images, 1 epoch: a smoke run

The model and the loop are the tutorial's (tensorflow.org/tutorials/quickstart/advanced): ``MyModel``
subclasses ``Model`` and writes ``call``; each step records the forward pass on a ``GradientTape``, asks
it for the gradients of the loss, and hands them to the optimizer. ``fit`` runs the same step: with the
same seed and the same batches the two give bit-identical weights (tests/test_examples_graphs.py).
Prints one ``RESULT`` line: test accuracy, loss and seconds.
"""
# %%
import argparse
import time

import numpy as np

import tinynet as tf
from tinynet.keras import Model
from tinynet.keras.layers import Conv2D, Dense, Flatten


class MyModel(Model):
    """Conv2D(32, 3, relu) -> Flatten -> Dense(128, relu) -> Dense(10): logits."""

    def __init__(self):
        super().__init__()
        self.conv1 = Conv2D(32, 3, activation="relu")
        self.flatten = Flatten()
        self.d1 = Dense(128, activation="relu")
        self.d2 = Dense(10)

    def call(self, x):
        x = self.conv1(x)
        x = self.flatten(x)
        x = self.d1(x)
        return self.d2(x)


# %% One step: the forward pass recorded, the gradients asked of the tape, the optimizer's update.
def train_step(model, optimizer, loss_object, images, labels):
    with tf.GradientTape() as tape:
        predictions = model(images, training=True)
        loss = loss_object(labels, predictions)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss, predictions


# %%
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="256 training images, 1 epoch")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args(argv)

    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
    x_train, x_test = x_train[..., tf.newaxis] / 255.0, x_test[..., tf.newaxis] / 255.0
    epochs = args.epochs
    if args.quick:
        (x_train, y_train), (x_test, y_test), epochs = (x_train[:256], y_train[:256]), (x_test[:256], y_test[:256]), 1

    tf.random.set_seed(0)
    train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10000).batch(32)
    test_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(32)
    model = MyModel()
    loss_object = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = tf.keras.optimizers.Adam()
    train_loss, train_accuracy = tf.keras.metrics.Mean(), tf.keras.metrics.SparseCategoricalAccuracy()
    test_loss, test_accuracy = tf.keras.metrics.Mean(), tf.keras.metrics.SparseCategoricalAccuracy()

    start = time.perf_counter()
    for epoch in range(epochs):
        for metric in (train_loss, train_accuracy, test_loss, test_accuracy):
            metric.reset_state()
        for images, labels in train_ds:
            loss, predictions = train_step(model, optimizer, loss_object, images, labels)
            train_loss(loss)
            train_accuracy(labels, predictions)
        for images, labels in test_ds:
            predictions = model(images, training=False)
            test_loss(loss_object(labels, predictions))
            test_accuracy(labels, predictions)
        print(f"Epoch {epoch + 1}, Loss: {train_loss.result():.4f}, Accuracy: {train_accuracy.result() * 100:.2f}, "
              f"Test Loss: {test_loss.result():.4f}, Test Accuracy: {test_accuracy.result() * 100:.2f}")
    seconds = time.perf_counter() - start
    print(f"RESULT test_accuracy={test_accuracy.result():.4f} test_loss={test_loss.result():.4f} "
          f"seconds={seconds:.1f}")
    return model


if __name__ == "__main__":
    main()
