"""``format_summary`` against a table printed by tf.keras 2.11 (a published MNIST CNN notebook's output):
the same model built in tinynet must print the same characters, trailing spaces included."""
import numpy as np
import pytest

from tinynet import layers
from tinynet.models import Sequential
from tinynet.core.summary import format_row, format_summary

# Printed by tf.keras 2.11 for Conv2D(32, 3, same) -> Conv2D(64, 3, same) -> MaxPooling2D -> Flatten
# -> Dense(128) -> Dense(10) on 28x28x1 inputs. Every table line is 65 characters long.
KERAS_2_11 = """\
Model: "sequential"
_________________________________________________________________
 Layer (type)                Output Shape              Param #   
=================================================================
 conv2d (Conv2D)             (None, 28, 28, 32)        320       
                                                                 
 conv2d_1 (Conv2D)           (None, 28, 28, 64)        18496     
                                                                 
 max_pooling2d (MaxPooling2D  (None, 14, 14, 64)       0         
 )                                                               
                                                                 
 flatten (Flatten)           (None, 12544)             0         
                                                                 
 dense (Dense)               (None, 128)               1605760   
                                                                 
 dense_1 (Dense)             (None, 10)                1290      
                                                                 
=================================================================
Total params: 1,625,866
Trainable params: 1,625,866
Non-trainable params: 0
_________________________________________________________________"""


def keras_mnist_cnn():
    return Sequential([
        layers.Conv2D(32, 3, padding="same", activation="relu", input_shape=(28, 28, 1), name="conv2d"),
        layers.Conv2D(64, 3, padding="same", activation="relu", name="conv2d_1"),
        layers.MaxPooling2D(name="max_pooling2d"),
        layers.Flatten(name="flatten"),
        layers.Dense(128, activation="relu", name="dense"),
        layers.Dense(10, activation="softmax", name="dense_1"),
    ], name="sequential")


def test_summary_matches_keras_2_11_character_for_character():
    lines = format_summary(keras_mnist_cnn())
    expected = KERAS_2_11.split("\n")
    assert all(len(line) == 65 for line in expected[1:-5] + expected[-1:])  # the pasted table kept its spaces
    for got, want in zip(lines, expected):
        assert got == want
    assert len(lines) == len(expected)


def test_a_long_name_cell_wraps_and_pushes_the_shape_one_character():
    # 'max_pooling2d_1 (MaxPooling2D)' is 30 characters: 27 fit, the rest goes on the next line.
    assert format_row(["max_pooling2d_1 (MaxPooling2D)", "(None, 5, 5, 32)", 0], [29, 55, 65]) == [
        " max_pooling2d_1 (MaxPooling  (None, 5, 5, 32)         0         ",
        " 2D)                                                             "]
    # exactly 27 characters fit on one line
    assert format_row(["a" * 27, "(None, 3)", 12], [29, 55, 65]) == [" " + "a" * 27 + "  (None, 3)" + " " * 16
                                                                     + "12" + " " * 8]


def test_multi_output_shapes_break_after_each_tuple():
    assert format_row(["x (X)", "[(None, 10), (None, 5)]", 0], [29, 55, 65]) == [
        " x (X)                       [(None, 10),              0         ",
        "                              (None, 5)]                         "]


def test_non_trainable_parameters_and_other_widths():
    model = Sequential([layers.Dense(4, input_shape=(3,), name="d"), layers.BatchNormalization(name="bn")],
                       name="m")
    lines = format_summary(model, line_length=80)
    assert lines[-4:] == ["Total params: 32", "Trainable params: 24", "Non-trainable params: 8", "_" * 80]
    assert lines[4] == " d (Dense)".ljust(36) + "(None, 4)".ljust(32) + "16".ljust(12)
    with pytest.raises(ValueError, match="Received: positions="):
        format_summary(model, positions=(0.9, 0.5, 1.0))
    np.testing.assert_equal(len(lines[4]), 80)


def test_print_summary_sends_each_line_to_print_fn(capsys):
    from tinynet.core.summary import print_summary
    lines = []
    print_summary(keras_mnist_cnn(), print_fn=lines.append)
    assert "\n".join(lines) == KERAS_2_11
    print_summary(keras_mnist_cnn())
    assert capsys.readouterr().out == KERAS_2_11 + "\n"
    with pytest.raises(TypeError, match="Received: print_fn=3"):
        print_summary(keras_mnist_cnn(), print_fn=3)


def test_model_summary_prints_the_keras_table():
    lines = []
    keras_mnist_cnn().summary(print_fn=lines.append)
    assert "\n".join(lines) == KERAS_2_11


def test_functional_summary_has_keras_connected_to_column():
    """The toy ResNet of keras.io's functional API guide, as tf.keras 2 prints it: 98 wide, a fourth column
    naming the tensors each layer reads (name[call][output]); shapes and counts check by hand:
    3*3*3*32 + 32 = 896, 3*3*32*64 + 64 = 18496, 3*3*64*64 + 64 = 36928, a 3-pool of 28 is 9."""
    import tinynet
    from tinynet import layers as L
    inputs = tinynet.Input((32, 32, 3), name="img")
    x = L.Conv2D(32, 3, activation="relu", name="conv2d_8")(inputs)
    x = L.Conv2D(64, 3, activation="relu", name="conv2d_9")(x)
    block_1_output = L.MaxPooling2D(3, name="max_pooling2d")(x)
    x = L.Conv2D(64, 3, activation="relu", padding="same", name="conv2d_10")(block_1_output)
    x = L.Conv2D(64, 3, activation="relu", padding="same", name="conv2d_11")(x)
    model = tinynet.Model(inputs, L.Add(name="add")([x, block_1_output]), name="toy_resnet")
    expected = [
        'Model: "toy_resnet"',
        "_" * 98,
        " Layer (type)                   Output Shape         Param #     Connected to                     ",
        "=" * 98,
        " img (InputLayer)               [(None, 32, 32, 3)]  0           []                               ",
        " " * 98,
        " conv2d_8 (Conv2D)              (None, 30, 30, 32)   896         ['img[0][0]']                    ",
        " " * 98,
        " conv2d_9 (Conv2D)              (None, 28, 28, 64)   18496       ['conv2d_8[0][0]']               ",
        " " * 98,
        " max_pooling2d (MaxPooling2D)   (None, 9, 9, 64)     0           ['conv2d_9[0][0]']               ",
        " " * 98,
        " conv2d_10 (Conv2D)             (None, 9, 9, 64)     36928       ['max_pooling2d[0][0]']          ",
        " " * 98,
        " conv2d_11 (Conv2D)             (None, 9, 9, 64)     36928       ['conv2d_10[0][0]']              ",
        " " * 98,
        " add (Add)                      (None, 9, 9, 64)     0           ['conv2d_11[0][0]',              ",
        "                                                                  'max_pooling2d[0][0]']          ",
        " " * 98,
        "=" * 98,
        "Total params: 93,248",
    ]
    assert format_summary(model)[:len(expected)] == expected


def test_a_shared_layer_is_connected_to_each_of_its_calls():
    import tinynet
    from tinynet import layers as L
    a, b = tinynet.Input((3,), name="a"), tinynet.Input((3,), name="b")
    shared = L.Dense(2, name="shared")
    model = tinynet.Model([a, b], L.Concatenate(name="cat")([shared(a), shared(b)]))
    rows = [line for line in format_summary(model) if line.strip()]
    assert any("shared (Dense)" in line and "['a[0][0]'," in line for line in rows)
    assert any(line.strip() == "'b[0][0]']" for line in rows)
    assert any("cat (Concatenate)" in line and "['shared[0][0]'," in line for line in rows)
    assert any(line.strip() == "'shared[1][0]']" for line in rows)
