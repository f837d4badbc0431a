"""tinynet.plot: every function renders to a PNG, and the figure holds what it promises."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

from tinynet import layers, plot
from tinynet.callbacks import History
from tinynet.models import Sequential


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def is_png(path):
    return path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 2000


def history(acc_key="accuracy", epochs=4, offset=0.0):
    h = History()
    h.history = {"loss": list(np.linspace(1, 0.3, epochs) + offset), acc_key: list(np.linspace(0.5, 0.9, epochs)),
                 "val_loss": list(np.linspace(1.1, 0.4, epochs)), f"val_{acc_key}": list(np.linspace(0.4, 0.8, epochs))}
    return h


def test_plot_history_one_run(tmp_path):
    figure = plot.plot_history(history(), title="run", path=tmp_path / "h.png")
    assert is_png(tmp_path / "h.png")
    accuracy, loss = figure.axes
    assert accuracy.get_title() == "Training and validation accuracy" and accuracy.get_ylabel() == "Accuracy"
    assert loss.get_title() == "Training and validation loss" and loss.get_xlabel() == "Epoch"
    assert [line.get_label() for line in loss.get_lines()] == ["train", "validation"]
    assert list(loss.get_lines()[1].get_ydata()) == history().history["val_loss"]
    assert list(loss.get_lines()[0].get_xdata()) == [1, 2, 3, 4]  # epochs counted from 1, as Keras prints them
    assert figure._suptitle.get_text() == "run"


def test_plot_history_compares_two_runs_and_accepts_dicts(tmp_path):
    figure = plot.plot_history(history("acc").history, history("acc", offset=0.5), labels=["MLP", "CNN"],
                               path=tmp_path / "cmp.png")
    assert is_png(tmp_path / "cmp.png")
    labels = [line.get_label() for line in figure.axes[1].get_lines()]
    assert labels == ["MLP train", "MLP validation", "CNN train", "CNN validation"]
    assert figure.axes[1].get_lines()[0].get_color() != figure.axes[1].get_lines()[2].get_color()


def test_plot_history_without_accuracy_or_validation():
    figure = plot.plot_history({"loss": [3.0, 2.0]})
    assert len(figure.axes) == 1 and len(figure.axes[0].get_lines()) == 1
    with pytest.raises(TypeError, match="expected a History"):
        plot.plot_history([1, 2])
    with pytest.raises(ValueError, match="2 labels for 1 histories"):
        plot.plot_history(history(), labels=["a", "b"])


def test_plot_confusion_matrix(tmp_path):
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 9]])
    figure = plot.plot_confusion_matrix(cm, class_names=["cat", "dog", "bird"], path=tmp_path / "cm.png")
    assert is_png(tmp_path / "cm.png")
    ax = figure.axes[0]
    assert ax.get_title() == "Confusion matrix" and ax.get_xlabel() == "Predicted label"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "bird"]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["5", "1", "0", "2", "7", "1", "0", "0", "9"]
    assert ax.texts[8].get_color() == "white" and ax.texts[1].get_color() == "black"  # dark cell, light cell
    normalized = plot.plot_confusion_matrix(cm, normalize=True)
    assert [t.get_text() for t in normalized.axes[0].texts][:3] == ["0.83", "0.17", "0.00"]
    with pytest.raises(ValueError, match="expected a square"):
        plot.plot_confusion_matrix(np.zeros((2, 3)))


def test_plot_images_marks_mistakes(tmp_path):
    x = np.random.default_rng(0).random((7, 784))  # flat rows become 28x28 images
    y_true = [0, 1, 2, 3, 4, 5, 6]
    y_pred = [0, 1, 9, 3, 4, 0, 6]
    figure = plot.plot_images(x, y_true, y_pred, cols=4, path=tmp_path / "grid.png")
    assert is_png(tmp_path / "grid.png")
    assert len(figure.axes) == 7  # the 8th cell of the 2x4 grid is removed
    assert figure.axes[0].get_images()[0].get_array().shape == (28, 28)
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[2] == "true 2\npred 9" and titles[0] == "true 0\npred 0"
    red = [i for i, ax in enumerate(figure.axes) if ax.title.get_color() == "red"]
    assert red == [2, 5]


def test_plot_images_names_and_limit():
    x = np.zeros((30, 8, 8, 1))
    figure = plot.plot_images(x, np.arange(30) % 2, class_names=["shirt", "bag"], max_images=10)
    assert len(figure.axes) == 10 and figure.axes[1].get_title() == "bag"
    with pytest.raises(ValueError, match="flat square rows"):
        plot.plot_images(np.zeros((2, 10)))


def test_plot_roc(tmp_path):
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    probs = np.eye(3)[y] * 0.5 + np.random.default_rng(0).random((8, 3)) * 0.6
    figure = plot.plot_roc(y, probs, path=tmp_path / "roc.png")
    assert is_png(tmp_path / "roc.png")
    ax = figure.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[0].startswith("micro-average (area = ") and labels[1].startswith("macro-average (area = ")
    assert [label.split(" (")[0] for label in labels[2:5]] == ["class 0", "class 1", "class 2"]
    assert len(ax.get_lines()) == 6  # micro, macro, 3 classes, the diagonal
    assert ax.get_xlabel() == "False Positive Rate"
    figure = plot.plot_roc(np.arange(20) % 12, np.random.default_rng(1).random((20, 12)))
    assert len(figure.axes[0].get_lines()) == 2 + 3 + 1  # 12 classes: only the first 3 get a curve


def conv_model():
    model = Sequential([layers.Conv2D(6, 3, activation="relu", input_shape=(10, 10, 1)), layers.MaxPooling2D(),
                        layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(2, activation="softmax")])
    return model


def test_plot_filters(tmp_path):
    model = conv_model()
    figure = plot.plot_filters(model.layers[0], cols=4, path=tmp_path / "filters.png")
    assert is_png(tmp_path / "filters.png")
    assert len(figure.axes) == 6
    assert figure.axes[0].get_images()[0].get_array().shape == (3, 3)
    assert figure._suptitle.get_text() == f"{model.layers[0].name}: 6 of 6 filters (3x3, input channel 0)"
    with pytest.raises(TypeError, match="expected a built Conv2D layer"):
        plot.plot_filters(model.layers[1])


def test_plot_filters_rgb_and_fake_layer():
    class FakeConv:  # anything with a Keras-layout kernel works
        name = "fake"
        kernel = type("P", (), {"data": np.random.default_rng(0).random((5, 5, 3, 10))})()

    figure = plot.plot_filters(FakeConv(), max_filters=4)
    assert len(figure.axes) == 4 and figure.axes[0].get_images()[0].get_array().shape == (5, 5, 3)
    assert "RGB" in figure._suptitle.get_text()


def test_plot_feature_maps(tmp_path):
    model = conv_model()
    image = np.random.default_rng(0).random((10, 10))
    figure = plot.plot_feature_maps(model, image, path=tmp_path / "maps.png")
    assert is_png(tmp_path / "maps.png")
    assert len(figure.axes) == 6
    first = model.layers[0].forward(image[None, :, :, None].astype(np.float32))
    np.testing.assert_array_equal(figure.axes[2].get_images()[0].get_array(), first[0, :, :, 2])
    second = plot.plot_feature_maps(model, image[:, :, None], layer=2)
    assert len(second.axes) == 4 and second.axes[0].get_images()[0].get_array().shape == (2, 2)  # 10 -> 8 -> 4 -> 2
    with pytest.raises(ValueError, match="not feature maps"):
        plot.plot_feature_maps(model, image, layer=-1)
    with pytest.raises(ValueError, match="no layer is named 'nope'"):
        plot.plot_feature_maps(model, image, layer="nope")


def test_plot_model_draws_one_box_per_layer_with_shapes(tmp_path):
    from tinynet import layers, utils
    from tinynet.models import Sequential
    from tinynet.plot import plot_model
    model = Sequential([layers.Conv2D(8, 3, activation="relu", input_shape=(28, 28, 1), name="conv"),
                        layers.MaxPooling2D(name="pool"), layers.Flatten(name="flat"),
                        layers.Dense(10, activation="softmax", name="out")])
    assert utils.plot_model is plot_model  # keras.utils.plot_model
    figure = plot_model(model, to_file=tmp_path / "model.png", show_shapes=True, show_layer_activations=True)
    texts = [t.get_text() for t in figure.axes[0].texts if t.get_text()]  # arrows are empty texts
    assert texts[:6] == ["conv_input: InputLayer", "input:", "(None, 28, 28, 1)", "output:", "(None, 28, 28, 1)",
                         "conv: Conv2D\nactivation: relu"]
    assert "(None, 26, 26, 8)" in texts and "(None, 13, 13, 8)" in texts and "(None, 1352)" in texts
    assert texts.count("input:") == 5 and len(figure.axes[0].patches) == 5  # the input and four layers
    assert (tmp_path / "model.png").stat().st_size > 1000
    plain = plot_model(model, to_file=None, show_layer_names=False, rankdir="LR")
    assert [t.get_text() for t in plain.axes[0].texts if t.get_text()] == ["InputLayer", "Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    with pytest.raises(ValueError, match="Received: rankdir='BT'"):
        plot_model(model, to_file=None, rankdir="BT")
    with pytest.raises(ValueError, match="needs a built model"):
        plot_model(Sequential([layers.Dense(2)]), to_file=None)


def test_images_are_drawn_at_their_own_aspect():
    """A 28x28 digit stays square, a 10x20 image twice as wide as tall: no aspect='auto' anywhere."""
    digits = np.random.default_rng(0).random((3, 784))
    wide = np.random.default_rng(1).random((2, 10, 20))
    figures = [plot.plot_images(digits), plot.plot_images(wide), plot.plot_filters(conv_model().layers[0]),
               plot.plot_feature_maps(conv_model(), np.random.default_rng(2).random((10, 10)))]
    for figure in figures:
        for ax in figure.axes:
            for image in ax.get_images():
                assert ax.get_aspect() == 1.0
                left, right, bottom, top = image.get_extent()
                h, w = image.get_array().shape[:2]
                assert abs(right - left) / abs(top - bottom) == pytest.approx(w / h)
