"""Fashion-MNIST with tinynet: an MLP and a small CNN, evaluated as the `cifar100` article evaluates its models.

    python examples/fashion_mnist.py                 # MLP 784-512-256-10 with dropout, Adam, 20 epochs
    python examples/fashion_mnist.py --model cnn     # CNN 16c-32c-128 with BatchNormalization, Adam, 10 epochs
    python examples/fashion_mnist.py --quick         # 5000 samples (2000 for the CNN), one epoch: a smoke run

Fashion-MNIST (Zalando) has MNIST's format, 28x28 grey images in 10 classes, but
clothes instead of digits, and is harder: the authors' benchmark has MLPs at about
0.87-0.88 and simple CNNs at about 0.91-0.92 test accuracy.

The data comes from ``tinynet.datasets.fashion_mnist.load_data()`` (the cache, the
Debian package ``dataset-fashion-mnist``, or the download). The script prints
Keras's log, the classification report on the test set, a RESULT line, and saves
the learning curves and the confusion matrix as PNGs.
"""
# %%
import argparse
import sys
import statistics

import tinynet
from tinynet import callbacks, layers, metrics, optimizers, plot
from tinynet.datasets import fashion_mnist
from tinynet.models import Sequential

# %%
SETTINGS = {
    "mlp": dict(batch_size=128, epochs=20),
    "cnn": dict(batch_size=128, epochs=10),
}


# %%
def build(name):
    """The model, compiled. Both take (28, 28) images scaled to [0, 1] and integer labels."""
    if name == "mlp":
        model = Sequential([
            layers.Flatten(input_shape=(28, 28)),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(256, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model
    if name == "cnn":
        model = Sequential([
            layers.Reshape((28, 28, 1), input_shape=(28, 28)),
            layers.Conv2D(16, 3, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer=optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model
    raise ValueError(f"unknown model {name!r}")


# %%
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(SETTINGS), default="mlp")
    parser.add_argument("--epochs", type=int, help="override the number of epochs")
    parser.add_argument("--quick", action="store_true", help="a few thousand samples, one epoch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    parser.add_argument("--plot", help="where to save the curves (default fashion_mnist_<model>.png)")
    parser.add_argument("--save", help="also save the trained model there (load it with tinynet.models.load_model)")
    args = parser.parse_args(argv)

    tinynet.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    if args.quick:
        n = 5000 if args.model == "mlp" else 2000
        x_train, y_train, x_test, y_test = x_train[:n], y_train[:n], x_test[:1000], y_test[:1000]
    x_train, x_test = x_train.astype("float32") / 255, x_test.astype("float32") / 255

    model = build(args.model)
    settings = dict(SETTINGS[args.model])
    if args.quick:
        settings["epochs"] = 1
    if args.epochs:
        settings["epochs"] = args.epochs
    model.summary()

    timer = callbacks.EpochTimer()
    # The last 10% of the training set is held out to draw the validation curves;
    # the test set is used once, at the end.
    history = model.fit(x_train, y_train, validation_split=0.1, verbose=args.verbose, callbacks=[timer], **settings)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    probs = model.predict(x_test, batch_size=256)

    print()
    print(metrics.classification_report(y_test, probs, target_names=fashion_mnist.CLASS_NAMES))
    cm = metrics.confusion_matrix(y_test, probs, num_classes=10)
    worst = max(((i, j) for i in range(10) for j in range(10) if i != j), key=lambda ij: cm[ij])
    print(f"Most frequent confusion: {cm[worst]} {fashion_mnist.CLASS_NAMES[worst[0]]} taken for "
          f"{fashion_mnist.CLASS_NAMES[worst[1]]}")
    seconds_per_epoch = statistics.median(timer.seconds)
    print(f"test accuracy {test_accuracy:.4f}  test loss {test_loss:.4f}  ({seconds_per_epoch:.1f} s/epoch)")
    print(f"RESULT model={args.model} epochs={settings['epochs']} test_accuracy={test_accuracy:.4f} "
          f"seconds_per_epoch={seconds_per_epoch:.1f}")

    stem = args.plot[:-4] if args.plot and args.plot.endswith(".png") else args.plot or f"fashion_mnist_{args.model}"
    plot.plot_history(history, title=f"Fashion-MNIST {args.model.upper()}", path=f"{stem}.png")
    plot.plot_confusion_matrix(cm, class_names=fashion_mnist.CLASS_NAMES, path=f"{stem}_confusion.png")
    print(f"Saved {stem}.png and {stem}_confusion.png")
    if args.save:
        model.save(args.save)
        print(f"Saved the model to {args.save}")


# %%
if __name__ == "__main__":
    main([] if "ipykernel" in sys.modules else None)  # a notebook passes no arguments
