"""Open someone else's Keras model and look inside it, layer by layer.

    python examples/open_keras_model.py model.h5                  # Keras 2 model.save('model.h5')
    python examples/open_keras_model.py model.keras               # Keras 3 model.save('model.keras')
    python examples/open_keras_model.py model.json --weights w.h5 # Keras 2 to_json() + save_weights()
    python examples/open_keras_model.py model.keras --dataset fashion_mnist

It prints the model's summary(), evaluates it on the test set it was trained for
(MNIST or Fashion-MNIST, inputs scaled to [0, 1] and shaped as the model's input),
and traces one test image through it with tinynet.trace: every layer's equation,
the shapes going in and out, and the gradients coming back.

Reading Keras files needs h5py: pip install tinynet[h5].
"""
import argparse
from pathlib import Path

import numpy as np

import tinynet
from tinynet.models import load_model, model_from_json


def open_model(path, weights=None):
    """A tinynet model from a Keras file: a full model (.h5 / .keras) or JSON plus a weights file."""
    if weights is None:
        return load_model(path)
    model = model_from_json(Path(path).read_text())
    model.load_weights(weights)
    return model


def test_set(name, input_shape):
    """The test images scaled to [0, 1] and shaped as the model's input, and their labels."""
    from tinynet.datasets import fashion_mnist, mnist
    (_, _), (x, y) = (fashion_mnist if name == "fashion_mnist" else mnist).load_data()
    return (x.astype(np.float32) / 255).reshape(len(x), *input_shape), y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a Keras .h5 / .keras file, or a to_json() .json file with --weights")
    parser.add_argument("--weights", help="the weights file (save_weights) for a .json architecture")
    parser.add_argument("--dataset", choices=["mnist", "fashion_mnist"],
                        help="the test set (default: fashion_mnist if the file name says 'fashion', else mnist)")
    parser.add_argument("--samples", type=int, default=None, help="evaluate on the first N test images only")
    args = parser.parse_args(argv)

    model = open_model(args.path, args.weights)
    model.summary()

    dataset = args.dataset or ("fashion_mnist" if "fashion" in Path(args.path).name.lower() else "mnist")
    x, y = test_set(dataset, model.input_shape[1:])
    if args.samples:
        x, y = x[:args.samples], y[:args.samples]
    if model.loss is None or model.loss.name != "sparse_categorical_crossentropy":
        # Integer labels: compile (or recompile) with the loss that takes them; the weights stay as read.
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.evaluate(x, y, batch_size=1000, verbose=0)
    print(f"\n{dataset} test set, {len(x)} images: loss {loss:.4f}, accuracy {accuracy:.4f}\n")

    # One image, forward and backward: what each layer computes and what flows back through it.
    tinynet.trace(model, x[:1], y[:1], training=False)
    print(f"RESULT dataset={dataset} accuracy={accuracy:.4f}")


if __name__ == "__main__":
    main()
