"""The CIFAR-100 CNN of "使用 Python+Keras 进行基础深度学习。第 2 章" (the `cifar100` article): (6,850,792 parameters), built, compiled and trained as the article does.

    python examples/cifar100_cnn.py              # needs cifar-100-python.tar.gz (see below); 10 epochs, batch 32
    python examples/cifar100_cnn.py --epochs 30  # the article's 10 epochs and then 20 more
    python examples/cifar100_cnn.py --quick      # random images of the right shape, one short epoch

The data comes from ``tinynet.datasets.cifar100.load_data(label_mode='fine')``, which reads
the canonical ``cifar-100-python.tar.gz`` from ``~/.tinynet/datasets/`` (or Keras's cache, or
``--path``); tinynet does not download it, and says where to put it when it is missing.

The article (Keras, SGD with its defaults, batch 32) reports val_acc 0.2183 after 10 epochs,
about 58 s per epoch on its GPU; in pure NumPy on a CPU this model is slow (its 3x3 convolutions
with 128-1024 channels are about 1.3 GFLOP per image, forward and backward), so expect hours.
"""
# %%
import argparse
import statistics
import sys

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinynet  # noqa: E402
from tinynet import callbacks, datasets  # noqa: E402
from tinynet.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D  # noqa: E402
from tinynet.models import Sequential  # noqa: E402
from tinynet.utils import to_categorical  # noqa: E402

# %%
PUBLISHED_VAL_ACC = 0.2183  # after 10 epochs


# %%
def create_simple_cnn():
    """The article's create_simple_cnn(), line for line."""
    model = Sequential()
    model.add(Conv2D(32, kernel_size=(3, 3), input_shape=(32, 32, 3), activation="relu"))
    model.add(Conv2D(64, kernel_size=(3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(128, kernel_size=(3, 3), activation="relu"))
    model.add(Conv2D(256, kernel_size=(3, 3), activation="relu"))
    model.add(Conv2D(512, kernel_size=(3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(1024, kernel_size=(3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dense(500, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(100, activation="softmax"))
    return model


# %%
def load(quick, path):
    """Images scaled to [0, 1] and one-hot labels, as the article prepares them."""
    if quick:
        rng = np.random.default_rng(0)
        x_train, x_test = (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8) for n in (64, 32))
        y_train, y_test = rng.integers(0, 100, (64, 1)), rng.integers(0, 100, (32, 1))
    else:
        (x_train, y_train), (x_test, y_test) = datasets.cifar100.load_data(label_mode="fine", path=path)
    x_train, x_test = x_train / 255, x_test / 255
    return (x_train, to_categorical(y_train, 100)), (x_test, to_categorical(y_test, 100))


# %%
def plot_curves(history, path):
    """The article's two figures, side by side: accuracy and loss, train vs validation."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    for axes, key, label in ((left, "acc", "Accuracy"), (right, "loss", "Loss")):
        axes.plot(history[key], "r")
        axes.plot(history[f"val_{key}"], "g")
        axes.set_xlabel("Num of Epochs")
        axes.set_ylabel(label)
        axes.set_title(f"Training {label} vs Validation {label}")
        axes.legend(["train", "validation"])
    figure.savefig(path)
    plt.close(figure)


# %%
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="64 random images, one epoch: a smoke run")
    parser.add_argument("--path", help="cifar-100-python.tar.gz, if not in the cache")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    parser.add_argument("--plot", default="cifar100_cnn.png", help="where to save the curves")
    args = parser.parse_args(argv)

    tinynet.set_random_seed(args.seed)
    try:
        (x_train, y_train), (x_test, y_test) = load(args.quick, args.path)
    except datasets.DatasetUnavailableError as error:
        sys.exit(f"{error}\n(or run with --quick to try the model on random images)")
    scnn_model = create_simple_cnn()
    scnn_model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["acc", "mse"])
    scnn_model.summary()

    timer = callbacks.EpochTimer()
    epochs = 1 if args.quick else args.epochs
    scnn = scnn_model.fit(x=x_train, y=y_train, batch_size=32, epochs=epochs, verbose=args.verbose,
                          validation_data=(x_test, y_test), shuffle=True, callbacks=[timer])
    history = scnn.history
    seconds_per_epoch = statistics.median(timer.seconds)
    val_acc = history["val_acc"][-1]

    print()
    print(f"the cifar100 article's CIFAR-100 CNN, SGD, batch 32, {epochs} epoch(s){' on random data (--quick)' if args.quick else ''}")
    print(f"{'':28}{'published':>12}{'tinynet':>12}")
    print(f"{'val_acc after 10 epochs':28}{PUBLISHED_VAL_ACC:>12.4f}{'':>12}")
    print(f"{f'val_acc after {epochs} epoch(s)':28}{'':>12}{val_acc:>12.4f}")
    print(f"{'seconds per epoch':28}{'':>12}{seconds_per_epoch:>12.2f}")
    plot_curves(history, args.plot)
    print(f"curves saved to {args.plot}")
    print(f"RESULT model=cifar100 params={scnn_model.count_params()} val_acc={val_acc:.4f} "
          f"seconds_per_epoch={seconds_per_epoch:.3f} epochs={len(timer.seconds)}")
    return scnn_model, history


# %%
if __name__ == "__main__":
    main([] if "ipykernel" in sys.modules else None)  # a notebook passes no arguments
