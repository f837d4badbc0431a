"""A convolutional autoencoder on MNIST (functional API): Conv2D and pooling down, Conv2DTranspose up.

    python examples/autoencoder.py                       # 60000 images, 3 epochs
    python examples/autoencoder.py --quick               # 1024 images, 1 epoch: a smoke run
    python examples/autoencoder.py --plot recon.png      # test digits above, their reconstructions below

The encoder squeezes each 28 x 28 digit into 7 x 7 x 8 numbers (392, half the pixels); the decoder
grows it back with transposed convolutions (the adjoint of a strided Conv2D: its forward is Conv2D's
backward with respect to the input). The model is trained to give back its input, pixel by pixel
(binary cross-entropy on pixels in [0, 1]). Prints one ``RESULT`` line: the test reconstruction error
(mean squared, per pixel) beside the error of the simplest guess, the mean training digit for every image.
"""
# %%
import argparse
import time

import numpy as np

import tinynet
from tinynet import datasets, layers
from tinynet.models import Model


def build():
    image = tinynet.Input(shape=(28, 28, 1), name="image")
    h = layers.Conv2D(16, 3, padding="same", activation="relu")(image)
    h = layers.MaxPooling2D(2)(h)                                                   # 14 x 14 x 16
    h = layers.Conv2D(8, 3, padding="same", activation="relu")(h)
    code = layers.MaxPooling2D(2, name="code")(h)                                   # 7 x 7 x 8
    h = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(code)    # 14 x 14 x 8
    h = layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(h)      # 28 x 28 x 16
    reconstruction = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="reconstruction")(h)
    model = Model(image, reconstruction, name="autoencoder")
    model.compile(optimizer=tinynet.optimizers.Adam(learning_rate=3e-3), loss="binary_crossentropy")
    return model


def plot_reconstructions(images, reconstructions, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    n = len(images)
    figure, axes = plt.subplots(2, n, figsize=(1.2 * n, 2.6))
    for i in range(n):
        for row, picture in enumerate((images[i], reconstructions[i])):
            axes[row, i].imshow(picture[..., 0], cmap="gray", vmin=0, vmax=1)
            axes[row, i].axis("off")
    figure.suptitle("test digits (top) and the autoencoder's reconstructions (bottom)")
    figure.savefig(path, dpi=80)
    plt.close(figure)


# %%
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1024 training images, 1 epoch")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--plot", help="write 10 test digits and their reconstructions to this PNG")
    args = parser.parse_args(argv)

    (x_train, _), (x_test, _) = datasets.mnist.load_data()
    x_train = x_train[..., None].astype("float32") / 255
    x_test = x_test[..., None].astype("float32") / 255
    epochs = args.epochs
    if args.quick:
        x_train, x_test, epochs = x_train[:1024], x_test[:256], 1

    tinynet.set_random_seed(0)
    model = build()
    model.summary()
    start = time.perf_counter()
    model.fit(x_train, x_train, batch_size=32, epochs=epochs, verbose=2)
    seconds = time.perf_counter() - start
    reconstructions = np.asarray(model.predict(x_test, batch_size=256))
    error = float(np.mean((reconstructions - x_test) ** 2))
    baseline = float(np.mean((x_train.mean(axis=0) - x_test) ** 2))     # every image guessed as the mean digit
    if args.plot:
        plot_reconstructions(x_test[:10], reconstructions[:10], args.plot)
        print(f"reconstructions written to {args.plot}")
    print(f"RESULT reconstruction_mse={error:.4f} mean_digit_mse={baseline:.4f} train_seconds={seconds:.1f}")
    return model


if __name__ == "__main__":
    main()
