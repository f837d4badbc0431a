"""Reproduce the published articles' MNIST MLPs with tinynet (titles in docs/articles.md).

    python examples/mnist_mlp.py                  # cca: 784-512-512-10, Adam, 20 epochs
    python examples/mnist_mlp.py --model chollet  # chollet: 784-512-10, rmsprop, 5 epochs
    python examples/mnist_mlp.py --model small    # small: 784-64-10, RMSprop(lr=0.001, epsilon=1e-6)
    python examples/mnist_mlp.py --model tf2      # tf2 MLP: Flatten-128-Dropout-10, Adam(lr=1e-4), 100 epochs
    python examples/mnist_mlp.py --quick          # 5000 samples, one epoch: a smoke run

Each model is built, compiled and fitted exactly as its article does in Keras;
only the imports differ. The script prints Keras's log, then the article's
published number next to tinynet's, and saves the accuracy/loss curves as a PNG.
"""
# %%
import argparse
import sys
import statistics

import tinynet
from tinynet import callbacks, datasets, layers, optimizers, plot
from tinynet.models import Sequential
from tinynet.utils import to_categorical

# What each article publishes, and what it measures it on.
PUBLISHED = {
    "cca": ("the cca article (深度學習 Keras MNIST 正確率可視化): 784-512-512-10, Adam, batch 128, 20 epochs, validation_split=0.1",
            "best val_acc", 0.9833),
    "chollet": ("the chollet article (Keras 教學 - Keras MNIST 手寫辨識): 784-512-10, rmsprop, batch 128, 5 epochs", "test accuracy", 0.977),
    "small": ("the small article (深度學習程式設計入門(一)): 784-64-10, RMSprop(lr=0.001, rho=0.9, epsilon=1e-06), batch 128, 10 epochs",
              "test accuracy", 0.97),
    "tf2": ("the tf2 article's MLP: Flatten-128-Dropout(0.2)-10, Adam(lr=1e-4), batch 32, 100 epochs",
            "best val_accuracy", 0.9806),
}


# %%
def build(name):
    """The seed's model, compiled as in its article. Returns (model, fit settings)."""
    if name == "cca":
        model = Sequential([
            layers.Dense(512, activation="relu", input_shape=(784,)),
            layers.Dense(512, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["acc"])
        return model, dict(batch_size=128, epochs=20, validation_split=0.1)
    if name == "chollet":
        model = Sequential()
        model.add(layers.Dense(512, activation="relu", input_shape=(28 * 28,)))
        model.add(layers.Dense(10, activation="softmax"))
        model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
        return model, dict(batch_size=128, epochs=5)
    if name == "small":
        model = Sequential()
        model.add(layers.Dense(64, activation="relu", input_dim=784))
        model.add(layers.Dense(10, activation="softmax"))
        rms = optimizers.RMSprop(lr=0.001, rho=0.9, epsilon=1e-06)
        model.compile(loss="categorical_crossentropy", optimizer=rms, metrics=["accuracy"])
        return model, dict(batch_size=128, epochs=10)
    if name == "tf2":
        model = Sequential([
            layers.Flatten(input_shape=(28, 28)),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer=optimizers.Adam(lr=1e-4), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model, dict(batch_size=32, epochs=100)
    raise ValueError(f"unknown model {name!r}")


# %%
def load(name, quick):
    """MNIST as the article prepares it: flat /255 vectors and one-hot labels, or images and integers."""
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    if quick:
        x_train, y_train = x_train[:5000], y_train[:5000]
    if name == "tf2":
        return (x_train / 255.0, y_train), (x_test / 255.0, y_test)
    x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), 784).astype("float32") / 255
    return (x_train, to_categorical(y_train, 10)), (x_test, to_categorical(y_test, 10))


# %%
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(PUBLISHED), default="cca")
    parser.add_argument("--epochs", type=int, help="override the article's number of epochs")
    parser.add_argument("--quick", action="store_true", help="5000 training samples, one epoch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    parser.add_argument("--plot", help="where to save the curves (default mnist_mlp_<model>.png)")
    args = parser.parse_args(argv)

    tinynet.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load(args.model, args.quick)
    model, settings = build(args.model)
    if args.quick:
        settings["epochs"] = 1
    if args.epochs:
        settings["epochs"] = args.epochs
    if args.model == "tf2":
        settings["validation_data"] = (x_test, y_test)
    model.summary()

    timer = callbacks.EpochTimer()
    log = model.fit(x_train, y_train, verbose=args.verbose, callbacks=[timer], **settings)
    loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=128, verbose=0)

    history = log.history
    val_key = next((k for k in ("val_acc", "val_accuracy") if k in history), None)
    best_val = max(history[val_key]) if val_key else None
    seconds_per_epoch = statistics.median(timer.seconds)
    description, published_metric, published_value = PUBLISHED[args.model]
    ours = best_val if published_metric.startswith("best") else test_accuracy

    print()
    print(f"{args.model} ({description})")
    print(f"{'':24}{'published':>12}{'tinynet':>12}")
    print(f"{published_metric:24}{published_value:>12.4f}{ours:>12.4f}")
    if published_metric != "test accuracy":
        print(f"{'test accuracy':24}{'':>12}{test_accuracy:>12.4f}")
    print(f"{'seconds per epoch':24}{'':>12}{seconds_per_epoch:>12.2f}")
    plot_path = args.plot or f"mnist_mlp_{args.model}.png"
    plot.plot_history(history, title=f"tinynet: {args.model}", path=plot_path)
    print(f"curves saved to {plot_path}")
    best = f"{best_val:.4f}" if best_val is not None else "none"
    print(f"RESULT model={args.model} test_accuracy={test_accuracy:.4f} best_val_accuracy={best} "
          f"seconds_per_epoch={seconds_per_epoch:.3f} epochs={len(timer.seconds)}")
    return model, history


# %%
if __name__ == "__main__":
    main([] if "ipykernel" in sys.modules else None)  # a notebook passes no arguments
