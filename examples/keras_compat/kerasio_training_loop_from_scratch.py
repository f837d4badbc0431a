"""Hand-written training loops for a functional MNIST MLP, written the way keras.io's guide
"Writing a training loop from scratch" (TensorFlow version) writes them.

Mirrors: keras.io guide "Writing a training loop from scratch", github.com/keras-team/keras-io,
guides/writing_a_training_loop_from_scratch.py, commit 02743a2aafd542d9bad4b4a54b8f64d327ca171b
(fchollet; Apache License 2.0; keras.io/guides/writing_a_training_loop_from_scratch/), up to its
last section (its closing GAN example, which the guide says to run on a GPU, has no counterpart).

This is tinynet's own script, not a copy of that guide: the published text is not ours to commit.
It makes the guide's TensorFlow / Keras calls in the same order, with ``tensorflow`` swapped for
``tinynet`` in the imports: a functional model (``keras.Input(shape=(784,), name=)``, ``Dense`` layers
called on tensors, ``keras.Model(inputs=, outputs=)``); ``keras.optimizers.SGD(learning_rate=1e-3)``;
``SparseCategoricalCrossentropy(from_logits=True)``; ``np.reshape(x, (-1, 784))`` on the raw pixels
(the guide does not scale them); ``tf.data.Dataset.from_tensor_slices(...).shuffle(buffer_size=1024)
.batch(64)``; a ``tf.GradientTape`` loop with ``tape.gradient(loss, model.trainable_weights)`` and
``optimizer.apply_gradients(zip(...))``; then a fresh model with ``SparseCategoricalAccuracy`` objects
(``update_state`` / ``result`` / ``reset_states``) and a validation dataset; the same loop with
``@tf.function`` steps; last, a ``layers.Layer`` subclass whose ``call`` does
``self.add_loss(1e-2 * tf.reduce_sum(inputs))`` and a step adding ``sum(model.losses)`` to the loss.

Run: python examples/keras_compat/run.py kerasio_training_loop_from_scratch.py [--quick]
"""
import time

import tinynet as tf
from tinynet import keras
from tinynet.keras import layers
import numpy as np

BATCH = 64
EPOCHS = 2
REPORT_EVERY = 200   # batches


def digit_mlp(hidden_names=(None, None)):
    """784 pixels -> relu 64 -> relu 64 -> 10 logits, with the functional API."""
    pixels = keras.Input(shape=(784,), name="pixels")
    h = layers.Dense(64, activation="relu", name=hidden_names[0])(pixels)
    h = layers.Dense(64, activation="relu", name=hidden_names[1])(h)
    logits = layers.Dense(10, name="logits")(h)
    return keras.Model(inputs=pixels, outputs=logits)


def report(step, loss):
    if step % REPORT_EVERY == 0:
        print(f"  batch {step}: loss {float(loss):.4f} ({(step + 1) * BATCH} images so far)")


# 1. The bare loop: forward under a tape, gradients, one SGD update per batch.
net = digit_mlp()
sgd = keras.optimizers.SGD(learning_rate=1e-3)
xent = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

(train_pixels, train_digits), (test_pixels, test_digits) = keras.datasets.mnist.load_data()
train_pixels = np.reshape(train_pixels, (-1, 784))
test_pixels = np.reshape(test_pixels, (-1, 784))
batches = tf.data.Dataset.from_tensor_slices((train_pixels, train_digits))
batches = batches.shuffle(buffer_size=1024).batch(BATCH)

for epoch in range(EPOCHS):
    print(f"epoch {epoch + 1} (plain loop)")
    for step, (xb, yb) in enumerate(batches):
        with tf.GradientTape() as tape:
            loss = xent(yb, net(xb, training=True))
        grads = tape.gradient(loss, net.trainable_weights)
        sgd.apply_gradients(zip(grads, net.trainable_weights))
        report(step, loss)

# 2. A fresh model, with accuracy metrics and a validation pass after each epoch.
net = digit_mlp(hidden_names=("hidden_a", "hidden_b"))
sgd = keras.optimizers.SGD(learning_rate=1e-3)
xent = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
fit_accuracy = keras.metrics.SparseCategoricalAccuracy()
check_accuracy = keras.metrics.SparseCategoricalAccuracy()

batches = tf.data.Dataset.from_tensor_slices((train_pixels, train_digits))
batches = batches.shuffle(buffer_size=1024).batch(BATCH)
# The last 10,000 training images also serve for validation. As in the guide, the training dataset
# above was made before this split, so the model trains on them too.
val_pixels, val_digits = train_pixels[-10000:], train_digits[-10000:]
train_pixels, train_digits = train_pixels[:-10000], train_digits[:-10000]
val_batches = tf.data.Dataset.from_tensor_slices((val_pixels, val_digits)).batch(BATCH)


def eager_train(xb, yb):
    with tf.GradientTape() as tape:
        logits = net(xb, training=True)
        loss = xent(yb, logits)
    grads = tape.gradient(loss, net.trainable_weights)
    sgd.apply_gradients(zip(grads, net.trainable_weights))
    fit_accuracy.update_state(yb, logits)
    return loss


def eager_check(xb, yb):
    check_accuracy.update_state(yb, net(xb, training=False))


def run_epochs(train_batch, check_batch, label):
    """Train for EPOCHS epochs; print each epoch's training and validation accuracy and time."""
    for epoch in range(EPOCHS):
        print(f"epoch {epoch + 1} ({label})")
        began = time.time()
        for step, (xb, yb) in enumerate(batches):
            report(step, train_batch(xb, yb))
        fit_acc = fit_accuracy.result()
        fit_accuracy.reset_states()
        for xb, yb in val_batches:
            check_batch(xb, yb)
        val_acc = check_accuracy.result()
        check_accuracy.reset_states()
        print(f"  training accuracy {float(fit_acc):.4f}, validation accuracy {float(val_acc):.4f},"
              f" {time.time() - began:.2f} s")
    return float(val_acc)


run_epochs(eager_train, eager_check, "with metrics")

# 3. The same two steps compiled with tf.function, continuing on the same model.
validation_accuracy = run_epochs(tf.function(eager_train), tf.function(eager_check), "tf.function steps")


# 4. A layer that adds a loss of its own during the forward pass.
class ActivationPenalty(layers.Layer):
    """Identity on its input; adds 0.01 * sum(input) to the model's losses."""

    def call(self, inputs):
        self.add_loss(1e-2 * tf.reduce_sum(inputs))
        return inputs


pixels = keras.Input(shape=(784,), name="pixels")
h = layers.Dense(64, activation="relu")(pixels)
h = ActivationPenalty()(h)
h = layers.Dense(64, activation="relu")(h)
net = keras.Model(inputs=pixels, outputs=layers.Dense(10, name="logits")(h))


@tf.function
def penalized_step(xb, yb):
    with tf.GradientTape() as tape:
        logits = net(xb, training=True)
        # model.losses holds what the layers added during this forward pass.
        loss = xent(yb, logits) + sum(net.losses)
    grads = tape.gradient(loss, net.trainable_weights)
    sgd.apply_gradients(zip(grads, net.trainable_weights))
    fit_accuracy.update_state(yb, logits)
    return loss
