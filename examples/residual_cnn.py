"""A residual CNN on MNIST, built with the functional API: the fork and the sum of its gradients.

    python examples/residual_cnn.py                      # 60000 images, 2 epochs
    python examples/residual_cnn.py --quick              # 1000 images, 1 epoch: a smoke run
    python examples/residual_cnn.py --plot trace.png     # also draw the backward walk of one batch

The block ``h = relu(h + conv(relu(conv(h))))`` uses ``h`` twice: once through the two convolutions,
once straight to the ``Add``. Backward therefore reaches ``h`` along two paths, and its gradient is the
SUM of the two (the multivariable chain rule at a fork, ``tinynet/core/tape.py``): the identity path
gives ``dL/d(sum)`` unchanged, which is why a residual network trains deep. Prints one ``RESULT`` line.
"""
# %%
import argparse
import time

import numpy as np

import tinynet
from tinynet import datasets, layers
from tinynet.models import Model


def build():
    inputs = tinynet.Input(shape=(28, 28, 1), name="image")
    h = layers.Conv2D(16, 3, padding="same", activation="relu", name="stem")(inputs)
    h = layers.MaxPooling2D(2, name="pool1")(h)                                   # 14 x 14 x 16
    branch = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_a")(h)
    branch = layers.Conv2D(16, 3, padding="same", name="conv_b")(branch)
    h = layers.Add(name="fork_sum")([h, branch])                                 # h used twice: the fork
    h = layers.Activation("relu", name="block_relu")(h)
    h = layers.MaxPooling2D(2, name="pool2")(h)                                   # 7 x 7 x 16
    h = layers.Flatten(name="flatten")(h)
    outputs = layers.Dense(10, activation="softmax", name="classes")(h)
    model = Model(inputs, outputs, name="residual_cnn")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# %%
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1000 training images, 1 epoch")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--plot", help="write the trace of one batch (forward and backward walk) to this PNG")
    args = parser.parse_args(argv)

    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    x_train = x_train[..., None].astype("float32") / 255
    x_test = x_test[..., None].astype("float32") / 255
    epochs = args.epochs
    if args.quick:
        x_train, y_train, x_test, y_test, epochs = x_train[:1000], y_train[:1000], x_test[:500], y_test[:500], 1

    tinynet.set_random_seed(0)
    model = build()
    model.summary()
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=64, epochs=epochs, verbose=2)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    if args.plot:
        tinynet.trace(model, x_test[:4], y_test[:4], verbose=False).plot(args.plot)
        print(f"trace of one batch written to {args.plot}")
    print(f"RESULT test_accuracy={accuracy:.4f} test_loss={loss:.4f} train_seconds={seconds:.1f}")
    return model


if __name__ == "__main__":
    main()
