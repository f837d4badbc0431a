"""Look at what an MNIST model gets wrong: what the `cca` article (深度學習 Keras MNIST 正確率可視化) does after training.

    python examples/inspect_mistakes.py                         # train a 784-512-10 MLP (5 epochs), then inspect it
    python examples/inspect_mistakes.py --model-path mlp.npz    # inspect a model saved with model.save(...)
    python examples/inspect_mistakes.py --save mlp.npz          # train, save, inspect
    python examples/inspect_mistakes.py --quick                 # 5000 training samples, one epoch

It prints the classification report (precision, recall, F1 per digit), the most
frequent confusions, and saves the confusion matrix and a grid of misclassified
test digits, each titled with its true and predicted label.
"""
# %%
import argparse
import sys

import numpy as np

import tinynet
from tinynet import layers, metrics, plot
from tinynet.datasets import mnist
from tinynet.models import Sequential, load_model


# %%
def train(x_train, y_train, epochs):
    """The `chollet` article's MLP: 784-512-10, rmsprop, batch 128."""
    model = Sequential([layers.Dense(512, activation="relu", input_shape=(784,)),
                        layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=2)
    return model


# %%
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-path", help="a model saved with model.save(); skips training")
    parser.add_argument("--save", help="save the trained model there")
    parser.add_argument("--quick", action="store_true", help="5000 training samples, one epoch")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="mistakes", help="prefix of the PNGs (default mistakes_*.png)")
    args = parser.parse_args(argv)

    tinynet.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255

    if args.model_path:
        model = load_model(args.model_path)
        print(f"Loaded {args.model_path}")
    else:
        if args.quick:
            x_train, y_train = x_train[:5000], y_train[:5000]
        model = train(x_train, y_train, 1 if args.quick else args.epochs)
        if args.save:
            model.save(args.save)
            print(f"Saved the model to {args.save}")

    probs = model.predict(x_test, batch_size=256, verbose=1)
    y_pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(y_pred != y_test)
    print(f"\nTest accuracy {1 - len(wrong) / len(y_test):.4f}: {len(wrong)} of {len(y_test)} digits misclassified\n")
    print(metrics.classification_report(y_test, y_pred, digits=3))

    cm = metrics.confusion_matrix(y_test, y_pred, num_classes=10)
    off_diagonal = cm - np.diag(np.diag(cm))
    print("Most frequent confusions (true -> predicted: count):")
    for flat in np.argsort(off_diagonal, axis=None)[::-1][:5]:
        true, pred = divmod(int(flat), 10)
        print(f"  {true} -> {pred}: {off_diagonal[true, pred]}")

    plot.plot_confusion_matrix(cm, title="MNIST confusion matrix", path=f"{args.out}_confusion.png")
    # The mistakes the model was most sure of are the most instructive ones.
    confidence = probs[wrong, y_pred[wrong]]
    shown = wrong[np.argsort(-confidence)][:25]
    plot.plot_images(x_test[shown], y_test[shown], y_pred[shown],
                     title="Misclassified test digits, most confident first", path=f"{args.out}_grid.png")
    print(f"\nSaved {args.out}_confusion.png and {args.out}_grid.png ({len(shown)} misclassified digits)")


# %%
if __name__ == "__main__":
    main([] if "ipykernel" in sys.modules else None)  # a notebook passes no arguments
