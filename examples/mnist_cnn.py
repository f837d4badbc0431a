"""Train the MNIST CNNs of the `tf2` article (its CNN) and of Keras's own example with tinynet.

    python examples/mnist_cnn.py                       # the tf2 CNN, our settings: 99.2 % in 12 epochs
    python examples/mnist_cnn.py --article             # tf2 with the article's settings: Adam(lr=1e-4), batch 32, 100 epochs
    python examples/mnist_cnn.py --model keras         # Keras's mnist_cnn: Conv32-Conv64-MaxPool-Dropout-Dense128-Dropout
    python examples/mnist_cnn.py --quick               # 2000 samples (1000 to test), one epoch: a smoke run

tf2 is the article's model, built exactly as it writes it in tf.keras:
    Reshape(28, 28, 1), [Conv2D 3x3 same -> BatchNormalization -> ReLU -> MaxPooling2D 2] with
    16 then 32 filters, Flatten, Dense 128 -> BatchNormalization -> ReLU, Dense 10 softmax,
    Adam, sparse_categorical_crossentropy, validation_data=(x_test, y_test).
The article trains 100 epochs at lr=1e-4, batch 32 (best val_accuracy 0.9923, about 0.991
after epoch 10). By default we train it for 12 epochs at batch 128 with Adam(lr=1e-3) halved
every 2 epochs (``step_decay`` below), which reaches the same accuracy in a tenth of the steps.

keras is Keras's classic examples/mnist_cnn.py (reported: 99.25 % test accuracy after 12
epochs, with Adadelta); we train it with Adam(lr=1e-3), batch 128, 12 epochs.

The script prints Keras's log, then the published number next to tinynet's, a RESULT line,
and saves the accuracy / loss curves as a PNG.
"""
# %%
import argparse
import sys
import statistics

import tinynet
from tinynet import callbacks, datasets, layers, optimizers, plot
from tinynet.models import Sequential

# What each source publishes, and what it measures it on.
PUBLISHED = {
    "tf2": ("the tf2 article's CNN: 16c-32c-128 with BatchNormalization, Adam(lr=1e-4), batch 32, 100 epochs",
            "best val_accuracy", 0.9923),
    "keras": ("Keras examples/mnist_cnn.py: Conv32-Conv64-MaxPool-Dropout-Dense128-Dropout, 12 epochs",
              "test accuracy", 0.9925),
}


# %%
def build_tf2():
    """The `tf2` article's CNN, layer for layer."""
    return Sequential([
        layers.InputLayer(input_shape=(28, 28)),
        layers.Reshape((28, 28, 1)),

        layers.Conv2D(kernel_size=3, strides=1, filters=16, padding="same"),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.MaxPooling2D(pool_size=2, strides=2),

        layers.Conv2D(kernel_size=3, strides=1, filters=32, padding="same"),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.MaxPooling2D(pool_size=2, strides=2),

        layers.Flatten(),

        layers.Dense(units=128),
        layers.BatchNormalization(),
        layers.ReLU(),

        layers.Dense(units=10, activation="softmax"),
    ])


# %%
def build_keras():
    """Keras's examples/mnist_cnn.py (Keras 2), layer for layer."""
    model = Sequential()
    model.add(layers.Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(layers.Dropout(0.25))
    model.add(layers.Flatten())
    model.add(layers.Dense(128, activation="relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(10, activation="softmax"))
    return model


# %%
def step_decay(epoch):
    """Our tf2 schedule, for LearningRateScheduler: Adam's learning rate 1e-3, halved every 2 epochs."""
    return 1e-3 * 0.5 ** (epoch // 2)


# %%
def settings(name, article):
    """(optimizer, fit settings, extra callbacks, a one-line description of the settings)."""
    if name == "tf2" and article:
        return (optimizers.Adam(lr=1e-4), dict(batch_size=32, epochs=100), [],
                "the article's: Adam(lr=1e-4), batch 32, 100 epochs")
    if name == "tf2":
        return (optimizers.Adam(learning_rate=1e-3), dict(batch_size=128, epochs=12),
                [callbacks.LearningRateScheduler(step_decay)],
                "ours: Adam(lr=1e-3) halved every 2 epochs, batch 128, 12 epochs")
    return (optimizers.Adam(learning_rate=1e-3), dict(batch_size=128, epochs=12), [],
            "ours: Adam(lr=1e-3), batch 128, 12 epochs (Keras's example used Adadelta)")


# %%
def load(name, quick):
    """MNIST scaled to [0, 1]: (N, 28, 28) for tf2 (its Reshape adds the channel), (N, 28, 28, 1) for keras."""
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    if quick:
        x_train, y_train, x_test, y_test = x_train[:2000], y_train[:2000], x_test[:1000], y_test[:1000]
    x_train, x_test = x_train.astype("float32") / 255, x_test.astype("float32") / 255
    if name == "keras":
        x_train, x_test = x_train.reshape(-1, 28, 28, 1), x_test.reshape(-1, 28, 28, 1)
    return (x_train, y_train), (x_test, y_test)


# %%
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(PUBLISHED), default="tf2")
    parser.add_argument("--article", action="store_true",
                        help="tf2 only: the article's settings (Adam(lr=1e-4), batch 32, 100 epochs)")
    parser.add_argument("--epochs", type=int, help="override the number of epochs")
    parser.add_argument("--quick", action="store_true", help="2000 training and 1000 test samples, one epoch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    parser.add_argument("--plot", help="where to save the curves (default mnist_cnn_<model>.png)")
    args = parser.parse_args(argv)
    if args.article and args.model != "tf2":
        parser.error("--article applies to --model tf2 (the article's settings)")

    tinynet.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load(args.model, args.quick)
    model = build_tf2() if args.model == "tf2" else build_keras()
    optimizer, fit_settings, extra_callbacks, described = settings(args.model, args.article)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if args.quick:
        fit_settings["epochs"] = 1
    if args.epochs:
        fit_settings["epochs"] = args.epochs
    model.summary()
    print(f"Training settings: {described}")

    timer = callbacks.EpochTimer()
    log = model.fit(x_train, y_train, validation_data=(x_test, y_test), verbose=args.verbose,
                    callbacks=[timer] + extra_callbacks, **fit_settings)
    loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)

    history = log.history
    best_val = max(history["val_accuracy"])
    seconds_per_epoch = statistics.median(timer.seconds)
    description, published_metric, published_value = PUBLISHED[args.model]
    ours = best_val if published_metric.startswith("best") else test_accuracy

    print()
    print(f"{args.model} ({description})")
    print(f"tinynet trained with {described}")
    print(f"{'':24}{'published':>12}{'tinynet':>12}")
    print(f"{published_metric:24}{published_value:>12.4f}{ours:>12.4f}")
    if published_metric != "test accuracy":
        print(f"{'final test accuracy':24}{'':>12}{test_accuracy:>12.4f}")
    print(f"{'seconds per epoch':24}{'':>12}{seconds_per_epoch:>12.2f}")
    plot_path = args.plot or f"mnist_cnn_{args.model}.png"
    plot.plot_history(history, title=f"tinynet: {args.model} ({described})", path=plot_path)
    print(f"curves saved to {plot_path}")
    print(f"RESULT model={args.model} test_accuracy={test_accuracy:.4f} best_val_accuracy={best_val:.4f} "
          f"seconds_per_epoch={seconds_per_epoch:.3f} epochs={len(timer.seconds)}")
    return model, history


# %%
if __name__ == "__main__":
    main([] if "ipykernel" in sys.modules else None)  # a notebook passes no arguments
