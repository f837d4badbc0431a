"""Fuzz the Keras readers: damaged and hostile .h5, .keras and .weights.h5 files.

Every input either loads or raises ModelFileError (a KerasFileError for the Keras readers' own
findings), never another exception, never a crash or a hang of this process, and never costs
more than 100 MB and 2 s beyond the honest file: this process's peak memory is measured (``measured``),
the child that reads HDF5 reports its own (``tinynet.io.hdf5.LAST_CHILD``). A refused
``load_weights`` leaves the model's weights as they were.

    reader           input
    keras h5         load_model of a full-model .h5
    keras archive    load_model of a .keras zip
    keras weights    load_weights of a Keras 3 .weights.h5 into the honest model

Each case starts the HDF5 child (about 0.3 s), so the suite runs few:
``TINYNET_FUZZ_KERAS_EXAMPLES`` inputs per strategy (default 3); benchmarks/fuzz_readers.py runs more.
"""
import json
import os
import sys
import tempfile
import time
import tracemalloc
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

pytest.importorskip("h5py")

from tinynet.io import hdf5, keras_archive  # noqa: E402
from tinynet.io.errors import MAX_MESSAGE_CHARS, ModelFileError  # noqa: E402
from tinynet.models import load_model, load_weights  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import hostile  # noqa: E402
from fuzzing import member_mutations, mutations, remade_zip  # noqa: E402

EXAMPLES = int(os.environ.get("TINYNET_FUZZ_KERAS_EXAMPLES", "3"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
EXTRA_BYTES = 100 << 20
EXTRA_SECONDS = 2.0

STATS = {reader: {"cases": 0, "loaded": 0, "worst_peak": 0, "worst_child_peak": 0, "worst_time": 0.0}
         for reader in ("keras h5", "keras archive", "keras weights")}
TMP = Path(tempfile.mkdtemp(prefix="tinynet-fuzz-keras-"))

VALID_H5 = hostile.honest_h5(TMP).read_bytes()
VALID_KERAS_PATH = TMP / "honest.keras"
hostile.honest_model().save(VALID_KERAS_PATH)
KERAS_MEMBERS = hostile.members(VALID_KERAS_PATH)
VALID_WEIGHTS_PATH = TMP / "honest.weights.h5"
keras_archive.write_keras_weights(hostile.honest_model(), VALID_WEIGHTS_PATH)  # Keras 3's save_weights layout
VALID_WEIGHTS = VALID_WEIGHTS_PATH.read_bytes()


HONEST_SECONDS, HONEST_CHILD_PEAK = hostile.honest_h5_cost(TMP)


def run(reader, name, path):
    """Feed the file at ``path`` to ``reader``; True if it loaded, False if refused with ModelFileError."""
    hdf5.LAST_CHILD.clear()
    with measured() as cost:
        try:
            reader(path)
            loaded = True
        except ModelFileError as error:
            loaded = False
            assert len(str(error)) <= MAX_MESSAGE_CHARS and str(path) in str(error), str(error)[:1000]
    child_peak = hdf5.LAST_CHILD.get("peak_rss", 0)
    stats = STATS[name]
    stats["cases"] += 1
    stats["loaded"] += loaded
    stats["worst_peak"] = max(stats["worst_peak"], cost["memory"])
    stats["worst_child_peak"] = max(stats["worst_child_peak"], child_peak)
    stats["worst_time"] = max(stats["worst_time"], cost["seconds"])
    assert cost["memory"] < EXTRA_BYTES, f"{cost['memory']:,} bytes more for {path}"
    assert child_peak < HONEST_CHILD_PEAK + EXTRA_BYTES, f"the HDF5 child peaked at {child_peak:,} bytes"
    assert cost["seconds"] < HONEST_SECONDS + EXTRA_SECONDS, f"{cost['seconds']:.2f} s for {path}"
    return loaded


@contextmanager
def measured():
    """The block's time and memory: on Linux the growth of this process's peak resident memory (the
    peak reset through /proc/self/clear_refs first), elsewhere what tracemalloc traces (which slows
    allocation-heavy code several-fold, so the time is then not the untraced one)."""
    cost = {}
    clear_refs = Path("/proc/self/clear_refs")
    if clear_refs.exists():
        clear_refs.write_text("5")
        before, start = _status("VmRSS"), time.perf_counter()
        try:
            yield cost
        finally:
            cost.update(seconds=time.perf_counter() - start, memory=_status("VmHWM") - before)
        return
    tracemalloc.start()
    start = time.perf_counter()
    try:
        yield cost
    finally:
        cost.update(seconds=time.perf_counter() - start, memory=tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


def _status(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(field + ":"))


def written(data, suffix):
    path = TMP / f"fuzz{suffix}"
    path.write_bytes(data)
    return path


def load_full_model(path):
    model = load_model(path)
    assert model.layers and model.count_params() > 0


def load_weights_unchanged_on_refusal(path):
    model = hostile.honest_model()
    before = [w.copy() for w in model.get_weights()]
    try:
        load_weights(model, path)
    except ModelFileError:
        for got, want in zip(model.get_weights(), before):
            np.testing.assert_array_equal(got, want)
        raise


# ----- damaged bytes -------------------------------------------------------------------
@FUZZ
@given(mutations(VALID_H5, header=4096))
def test_h5_mutated(data):
    run(load_full_model, "keras h5", written(data, ".h5"))


@FUZZ
@given(st.integers(0, len(VALID_H5) - 1), st.integers(0, 255))
def test_h5_single_byte_changed(at, value):
    data = bytearray(VALID_H5)
    data[at] = value
    run(load_full_model, "keras h5", written(bytes(data), ".h5"))


@FUZZ
@given(mutations(VALID_WEIGHTS, header=4096))
def test_weights_h5_mutated(data):
    run(load_weights_unchanged_on_refusal, "keras weights", written(data, ".weights.h5"))


@FUZZ
@given(member_mutations(len(KERAS_MEMBERS)), st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
def test_keras_archive_mutated_members(mutation, compression):
    run(load_full_model, "keras archive", written(remade_zip(KERAS_MEMBERS, mutation, compression), ".keras"))


@FUZZ
@given(mutations(VALID_KERAS_PATH.read_bytes(), header=64))
def test_keras_archive_mutated(data):
    # Half of the flips land in the first 64 bytes (the first local header), the rest anywhere,
    # the zip directory and its end record included.
    run(load_full_model, "keras archive", written(data, ".keras"))


# ----- the classes, with their sizes drawn ---------------------------------------
HOSTILE_H5 = st.one_of(
    st.tuples(st.just("aliased names"), st.sampled_from([2, 1000, 60_000, 150_000]),
              st.sampled_from([1, 8192, 65536])),
    st.tuples(st.just("name flood"), st.sampled_from([99_999, 100_001, 400_000]), st.booleans()),
    st.tuples(st.just("repeated name"), st.sampled_from([2, 20_000]), st.just(None)),
    st.tuples(st.just("huge setting"), st.sampled_from([10_000, 1_000_000, 15_000_000]), st.just(None)),
    st.tuples(st.just("step count"), st.sampled_from([-1, 0, 10 ** 11, 10 ** 11 + 1, 2 ** 62]), st.just(None)),
    st.tuples(st.just("vlen length"), st.sampled_from([0, 1, 2 ** 20, 0xFFFFFFF0]), st.just(None)),
    st.tuples(st.just("chunked kernel"), st.sampled_from([(1, 1), (1, 130), (13, 13)]), st.just(None)),
)


def build_hostile_h5(kind, size, option):
    directory = Path(tempfile.mkdtemp(dir=TMP))
    if kind == "aliased names":
        return hostile.h5_aliased_names(directory, n_names=size, object_bytes=option)
    if kind == "name flood":
        return hostile.h5_names(directory, [b"x"] * size, fixed=option)
    if kind == "repeated name":
        return hostile.h5_names(directory, [b"dense"] * size)
    if kind == "huge setting":
        return hostile.h5_config_setting(directory, size)
    if kind == "step count":
        return hostile.h5_step_count(directory, size)
    if kind == "vlen length":
        return hostile.h5_vlen_length(directory, size)
    return hostile.h5_chunked_kernel(directory, n_inputs=130, chunk=size)


@FUZZ
@given(HOSTILE_H5)
def test_h5_hostile_classes(case):
    run(load_full_model, "keras h5", build_hostile_h5(*case))


@FUZZ
@given(st.sampled_from(["flood", "duplicate", "encrypted", "inflating"]), st.sampled_from(sorted(KERAS_MEMBERS)),
       st.sampled_from([100, 10_000, 30_000, 60_000]))
def test_keras_archive_hostile_zips(kind, member, size):
    path = TMP / "hostile.keras"
    if kind == "flood":
        hostile.zip_flood(VALID_KERAS_PATH, path, size)
    elif kind == "duplicate":
        hostile.zip_edited(VALID_KERAS_PATH, path, duplicate=member)
    elif kind == "encrypted":
        hostile.zip_edited(VALID_KERAS_PATH, path, encrypted=member)
    else:  # a member padded with data that deflates 95-fold (Keras ignores bytes after the HDF5 end)
        padded = KERAS_MEMBERS[member] + hostile.semi_compressible(size * 1024, ratio=95)
        hostile.zip_edited(VALID_KERAS_PATH, path, edit_member=(member, padded), deflated=[member])
    run(load_full_model, "keras archive", path)


def test_valid_keras_files_still_load():
    assert run(load_full_model, "keras h5", written(VALID_H5, ".h5"))
    assert run(load_full_model, "keras archive", VALID_KERAS_PATH)
    assert run(load_weights_unchanged_on_refusal, "keras weights", VALID_WEIGHTS_PATH)
    archive = json.loads(KERAS_MEMBERS["config.json"])
    assert archive["class_name"] == "Sequential"
