"""The table of file formats (tinynet/io/formats.py): a name's ending chooses the writer, its first bytes the reader.

``save_weights('w.weights.h5')`` writes Keras 3's weights file, ``'w.h5'`` Keras 2's, any other name
tinynet's .npz; ``ModelCheckpoint`` refuses, before the first epoch, what its file cannot hold.
The layouts are compared with files real Keras wrote (../shared/keras-files, skipped when absent).
"""
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import tinynet  # noqa: E402
from tinynet import callbacks, layers as L, optimizers  # noqa: E402
from tinynet.core.models import Model  # noqa: E402
from tinynet.io import formats  # noqa: E402
from tinynet.io.errors import KerasFileWarning  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TINYNET_SHARED_DIR", REPO.parent / "shared")) / "keras-files"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"no real Keras files at {SHARED}")
KERAS2_WEIGHTS = SHARED / "emmanuelepp_fashion_model.weights_k2.h5"   # Keras 2.10, save_weights('x.h5')
KERAS3_ARCHIVE = SHARED / "sadiemir_fashion_mnist_cnn.keras"            # Keras 3.0.5

HDF5 = b"\x89HDF\r\n\x1a\n"


def model(compiled=True):
    m = tinynet.Sequential([L.Conv2D(2, 3, activation="relu", input_shape=(6, 6, 1)), L.MaxPooling2D(2),
                            L.Flatten(), L.Dropout(0.2), L.Dense(3, activation="softmax")])
    if compiled:
        m.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
        m.train_on_batch(*data())
    return m


def data(n=4):
    rng = np.random.default_rng(0)
    return rng.random((n, 6, 6, 1), dtype=np.float32), tinynet.to_categorical(np.arange(n) % 3, 3)


def h5_type(node, name):
    kind = node.attrs.get_id(name).get_type()
    if isinstance(kind, h5py.h5t.TypeStringID):
        return ("string", kind.is_variable_str(), kind.get_cset())
    return (type(kind).__name__, node.attrs[name].dtype.str, node.attrs[name].shape)


# ----------------------------------------------------------------- the name chooses the writer

@pytest.mark.parametrize("name, kind", [("w.weights.h5", "keras-weights"), ("W.H5", "keras-h5"),
                                        ("w.hdf5", "keras-h5"), ("w.npz", "tinynet"), ("w.bin", "tinynet")])
def test_save_weights_writes_the_format_its_name_asks_for_and_load_weights_reads_it(tmp_path, name, kind):
    source, fresh = model(), model(compiled=False)
    x, _ = data()
    path = tmp_path / name
    source.save_weights(path)
    assert formats.format_for(path).name == kind
    assert path.read_bytes()[:8] == HDF5 if kind.startswith("keras") else path.read_bytes()[:2] == b"PK"
    if kind != "tinynet":
        with h5py.File(path, "r") as f:
            # Keras 3's weights file: layers/<class key>/vars/<i>; Keras 2's: one group per layer name at the root.
            assert ("layers" in f and "layer_names" not in f.attrs) == (kind == "keras-weights")
    renamed = tmp_path / "any.name"  # reading goes by the content, not the name
    os.replace(path, renamed)
    fresh.load_weights(renamed)
    assert np.array_equal(source.predict(x), fresh.predict(x))


def test_a_name_for_the_other_kind_of_file_is_refused_and_nothing_is_written(tmp_path):
    m = model()
    with pytest.raises(ValueError, match=r"'.*w.keras' names a Keras 3 .keras archive, which holds a whole model.*"
                                         r"w.weights.h5"):
        m.save_weights(tmp_path / "w.keras")
    with pytest.raises(ValueError, match=r"names a Keras 3 weights file, which holds weights only. Call "
                                         r"model.save_weights\(path\)"):
        m.save(tmp_path / "m.weights.h5")
    assert not list(tmp_path.iterdir())


def test_the_core_writes_no_file_itself(monkeypatch, tmp_path):
    assert Model.files is formats  # plugged in by `import tinynet`
    monkeypatch.setattr(Model, "files", None)
    with pytest.raises(RuntimeError, match=r"tinynet.core writes no file itself.*formats.install\(\)"):
        model(compiled=False).save(tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


# ----------------------------------------------------------------- the layouts Keras writes

def test_keras_3_weights_file_has_keras_3_layout(tmp_path):
    m = model()
    m.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5", "r") as f:
        assert sorted(f) == ["layers", "optimizer", "vars"]
        assert sorted(f["layers"]) == ["conv2d", "dense", "dropout", "flatten", "max_pooling2d"]
        assert [f[f"layers/conv2d/vars/{i}"].shape for i in (0, 1)] == [(3, 3, 1, 2), (2,)]  # kernel, then bias
        np.testing.assert_array_equal(f["layers/dense/vars/0"][()], m.layers[-1].kernel.data)
        # Adam: the step count, the learning rate, then each trainable weight's momentum and velocity.
        assert len(f["optimizer/vars"]) == 2 + 2 * len(m.trainable_weights)
        assert f["optimizer/vars/0"][()] == 1 and f["optimizer/vars/0"].dtype == np.int64


@needs_shared
def test_weights_files_have_the_structure_real_keras_writes(tmp_path):
    m = model(compiled=False)
    m.save_weights(tmp_path / "w.h5")
    with h5py.File(KERAS2_WEIGHTS, "r") as real, h5py.File(tmp_path / "w.h5", "r") as ours:
        assert set(ours.attrs) == set(real.attrs) == {"backend", "keras_version", "layer_names"}
        for name in ("backend", "keras_version", "layer_names"):
            assert h5_type(ours, name) == h5_type(real, name)
        dense = m.layers[-1].name
        assert set(ours) == {layer.name for layer in m.layers} | {"top_level_model_weights"}
        assert set(real) == {"dense_15", "dropout_7", "dense_16", "top_level_model_weights"}
        assert h5_type(ours[dense], "weight_names") == h5_type(real["dense_15"], "weight_names")
        assert [n.decode() if isinstance(n, bytes) else n for n in ours[dense].attrs["weight_names"]] == \
            [f"{dense}/kernel:0", f"{dense}/bias:0"]
        assert isinstance(ours[f"{dense}/{dense}/kernel:0"], h5py.Dataset)
        dropout = m.layers[3].name
        assert h5_type(ours[dropout], "weight_names") == h5_type(real["dropout_7"], "weight_names")
    m.save_weights(tmp_path / "w.weights.h5")
    with zipfile.ZipFile(KERAS3_ARCHIVE) as archive:
        real = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
    with h5py.File(tmp_path / "w.weights.h5", "r") as ours:
        assert set(ours) <= set(real)
        assert set(ours["layers"]) - {"dropout"} <= set(real["layers"])  # keys by class, numbered in order
        for key in ("conv2d", "max_pooling2d", "flatten", "dense"):
            assert set(ours[f"layers/{key}"]) == set(real[f"layers/{key}"]) == {"vars"}
        assert [ours[f"layers/conv2d/vars/{i}"].dtype for i in "01"] == [real[f"layers/conv2d/vars/{i}"].dtype
                                                                         for i in "01"]


# ----------------------------------------------------------------- ModelCheckpoint

def test_checkpoint_of_weights_to_weights_h5_writes_keras_3_weights(tmp_path):
    m = model()
    x, y = data(8)
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch}.weights.h5"), save_weights_only=True)
    m.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[checkpoint])
    for epoch in (1, 2):
        assert (tmp_path / f"w-{epoch}.weights.h5").read_bytes()[:8] == HDF5
    fresh = model(compiled=False)
    fresh.load_weights(tmp_path / "w-2.weights.h5")
    assert np.array_equal(m.predict(x), fresh.predict(x))


def nested():
    inner = tinynet.Sequential([L.Dense(4, activation="relu", input_shape=(3,)), L.Dense(2)], name="inner")
    outer = tinynet.Sequential([inner, L.Softmax()], name="outer")
    outer.compile("adam", "categorical_crossentropy")
    return outer


@pytest.mark.parametrize("name, weights_only, message", [
    ("m.weights.h5", False, "holds weights only"),
])
def test_checkpoint_refuses_before_the_first_epoch_what_its_file_cannot_hold(tmp_path, name, weights_only, message):
    m = nested()
    x, y = np.ones((4, 3), np.float32), np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]
    before = m.get_weights()
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / name), save_weights_only=weights_only)
    with pytest.raises(ValueError, match=message):
        m.fit(x, y, epochs=2, verbose=0, callbacks=[checkpoint])
    assert not list(tmp_path.iterdir())
    assert m.optimizer.iterations == 0
    assert all(np.array_equal(a, b) for a, b in zip(before, m.get_weights()))


@pytest.mark.parametrize("name", ["w.npz", "w.weights.h5", "w.h5"])
def test_checkpoint_of_a_nested_models_weights_is_saved(tmp_path, name):
    if name != "w.npz":
        pytest.importorskip("h5py")
    m = nested()
    x, y = np.ones((4, 3), np.float32), np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]
    m.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(str(tmp_path / name),
                                                                          save_weights_only=True)])
    fresh = nested()
    fresh.load_weights(tmp_path / name)
    assert np.array_equal(m.predict(x), fresh.predict(x))


class MyOptimizer(optimizers.SGD):
    """No Keras optimizer has this class."""


def test_checkpoint_to_h5_with_an_optimizer_keras_lacks_warns_at_once_and_saves_the_model(tmp_path):
    m = tinynet.Sequential([L.Dense(2, activation="softmax", input_shape=(3,))])
    m.compile(MyOptimizer(0.1), "categorical_crossentropy")
    x, y = np.ones((4, 3), np.float32), np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]

    class Epochs(callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.files_at_start = list(tmp_path.iterdir())

    epochs = Epochs()
    with pytest.warns(KerasFileWarning, match="The optimizer MyOptimizer cannot be held by a Keras file") as record:
        m.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}.h5")),
                                                     epochs])
    assert epochs.files_at_start == []  # warned before training, when the checkpoint checked its file
    assert record[0].lineno and sorted(p.name for p in tmp_path.iterdir()) == ["m-1.h5", "m-2.h5"]
    copy = tinynet.models.load_model(tmp_path / "m-2.h5")
    assert copy.loss is None and np.array_equal(copy.predict(x), m.predict(x))


def test_a_keras_file_names_what_it_holds(tmp_path):
    m = model()
    m.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        config = json.loads(archive.read("config.json"))
    assert config["compile_config"]["loss"] == "categorical_crossentropy"
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
