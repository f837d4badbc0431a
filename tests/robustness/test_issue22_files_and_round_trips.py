"""Issue 22, files and round trips: what a file read back says is what was written, and a damaged
file is refused in a short sentence before anything changes.

- BackupAndRestore's ``training_state.json``: bytes that are not UTF-8, or more than a training state
  takes, are refused by name (never a raw UnicodeDecodeError, never read whole);
- the compile settings survive a round trip through every format (loss_weights, metric objects
  with their settings, the optimizer's arguments).
"""
import os

import numpy as np
import pytest

import tinynet
from tinynet import callbacks, layers, metrics, optimizers
from tinynet.models import Sequential, load_model

X = np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32)
Y = np.random.default_rng(1).integers(0, 2, (16, 1)).astype(np.float32)


def model():
    tinynet.set_random_seed(0)
    m = Sequential([layers.Input((4,)), layers.Dense(1, activation="sigmoid")])
    m.compile(optimizers.SGD(0.1), "binary_crossentropy")
    return m


@pytest.mark.parametrize("content, message", [
    (b'{"epoch": 1, "file": "backup-1.npz", "x": "\xff\xfe"}', r"is not JSON \(.*can't decode byte 0xff"),
    (b'{"epoch": 1, "file": "' + b"a" * 10_000_000 + b'"}', r"is longer than the 10,000 bytes a training state takes"),
    (b'{"epoch": -5, "file": "backup--5.npz"}', r"is not a training state written by tinynet"),
    (b"[" * 5_000, r"is not JSON"),
])
def test_a_damaged_training_state_is_refused_by_name_before_anything_changes(tmp_path, content, message):
    backup = tmp_path / "backup"
    m = model()
    m.fit(X, Y, epochs=2, verbose=0, callbacks=[callbacks.BackupAndRestore(str(backup), delete_checkpoint=False)])
    (backup / "training_state.json").write_bytes(content)
    before, steps = m.get_weights(), int(m.optimizer.iterations)
    with pytest.raises(ValueError, match=message) as caught:
        m.fit(X, Y, epochs=3, verbose=0, callbacks=[callbacks.BackupAndRestore(str(backup))])
    assert len(str(caught.value)) < 400 + 2 * len(str(backup))
    assert "training_state.json" in str(caught.value)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(m.optimizer.iterations) == steps
    assert (backup / "training_state.json").read_bytes() == content


# ----- compile settings through every format ----------------------------------------------------
def compiled_with_settings():
    m = model()
    m.compile(optimizers.Adam(learning_rate=0.003, beta_1=0.8, epsilon=1e-5, amsgrad=True), "binary_crossentropy",
              loss_weights=[0.25],
              metrics=[metrics.Precision(thresholds=[0.3, 0.6]), metrics.AUC(num_thresholds=7),
                       metrics.BinaryAccuracy(threshold=0.3), "accuracy"])
    m.fit(X, Y, epochs=1, verbose=0)
    return m


@pytest.mark.parametrize("ext", [".npz", ".h5", ".keras"])
def test_compile_settings_survive_a_round_trip(tmp_path, ext):
    pytest.importorskip("h5py")
    m = compiled_with_settings()
    path = tmp_path / f"m{ext}"
    m.save(path)
    loaded = load_model(path)
    assert loaded.loss_weights == [0.25]
    assert [type(x).__name__ for x in loaded.metrics] == [type(x).__name__ for x in m.metrics]
    assert [x.get_config() for x in loaded.metrics[:3]] == [x.get_config() for x in m.metrics[:3]]
    np.testing.assert_array_equal(loaded.metrics[0].thresholds, [0.3, 0.6])
    assert loaded.metrics[1].num_thresholds == 7 and loaded.metrics[2].kwargs == {"threshold": 0.3}
    settings = loaded.optimizer.get_config()
    assert {k: settings[k] for k in ("learning_rate", "beta_1", "epsilon", "amsgrad")} == \
        {"learning_rate": 0.003, "beta_1": 0.8, "epsilon": 1e-5, "amsgrad": True}
    # The numbers: the loss is 0.25 x the cross-entropy, before and after, and so is every metric.
    before, after = m.evaluate(X, Y, verbose=0, return_dict=True), loaded.evaluate(X, Y, verbose=0, return_dict=True)
    p = m.predict(X, verbose=0).astype(np.float64)
    cross_entropy = -np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p))
    assert before["loss"] == pytest.approx(0.25 * cross_entropy, rel=1e-5)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_allclose(after[key], before[key], rtol=1e-6)
    predicted = (p[:, 0] > 0.3)
    assert after["binary_accuracy"] == pytest.approx(np.mean(predicted == (Y[:, 0] == 1)))


def test_a_saved_metric_that_would_allocate_gigabytes_is_refused(tmp_path):
    import json
    import zipfile
    from tinynet.io.errors import ModelFileError
    m = model()
    m.compile("sgd", "binary_crossentropy", metrics=[metrics.AUC()])
    path = tmp_path / "m.npz"
    m.save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(str(np.load(path)["compile_config"]))
    config["metrics"][0]["config"]["num_thresholds"] = 10 ** 9
    edited = tmp_path / "edited.npz"
    np.savez(tmp_path / "cc.npz", compile_config=np.array(json.dumps(config)))
    with zipfile.ZipFile(tmp_path / "cc.npz") as archive:
        members["compile_config.npy"] = archive.read("compile_config.npy")
    with zipfile.ZipFile(edited, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match=r"AUC with more than 100,000 thresholds is not read from a file") as caught:
        load_model(edited)
    assert len(str(caught.value)) < 600


def test_nadam_resumed_from_a_file_after_a_beta_1_change_steps_as_straight_through(tmp_path):
    """Nadam's momentum product keeps each factor's own beta_1 (as Keras's variable does): the file keeps
    the product, so a resumed run is bit-identical to one never interrupted."""
    def trained():
        m = model()
        m.compile(optimizers.Nadam(learning_rate=0.01), "binary_crossentropy")
        m.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        m.optimizer.beta_1 = 0.5
        m.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0)
        return m
    straight, resumed = trained(), trained()
    resumed.save(tmp_path / "nadam.npz")
    resumed = load_model(tmp_path / "nadam.npz")
    assert resumed.optimizer.beta_1 == 0.5
    assert resumed.optimizer.product_so_far == straight.optimizer.product_so_far
    for m in (straight, resumed):
        m.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    # The product is not the closed form over the current beta_1: the first four factors took 0.9.
    from tinynet.core.optimizers.more import mu_product
    assert straight.optimizer.product_so_far != mu_product(0.5, int(straight.optimizer.iterations))
