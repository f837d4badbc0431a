"""Fuzz the file readers longer than the test suite does, and measure the hostile files of issues 12 and 22.

    python benchmarks/fuzz_readers.py --examples 1000      # fuzz campaign
    python benchmarks/fuzz_readers.py --hostile            # the issues' files, at full size
    python benchmarks/fuzz_readers.py --quick              # both, small (what CI runs)

The fuzz campaign runs every test of tests/robustness/test_fuzz_readers.py with ``--examples``
inputs per strategy, and of test_fuzz_keras_readers.py with ``--keras-examples`` (each of those
starts the child process that reads HDF5, about 0.15 s), and prints, per reader, the cases run, how
many loaded, the worst memory peak and time of a single case, and for the Keras readers the worst
peak of the HDF5 child.

``--hostile`` builds each file the issues measured (tests/robustness/hostile.py) and loads it in a
fresh Python process, which reports its peak RSS growth during the call (the peak VmHWM, reset
through /proc/self/clear_refs before the call, minus VmRSS before it; Linux only), the peak RSS of
the child that read HDF5 (as the child measured it) and the time. Each hostile case is compared
with the honest file of its format (printed first): the summary gives the worst cost *beyond* it.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROBUSTNESS = ROOT / "tests" / "robustness"

# Run in a child process: ``setup`` (not measured), then ``call`` (measured). Prints JSON.
CHILD = r"""
import json, sys, time, warnings
sys.path.insert(0, {robustness!r})
import numpy as np
import tinynet
from tinynet.io import hdf5
from tinynet.models import load_model
from tinynet.datasets import mnist, cifar100
from tinynet.io import cache
{setup}
def status(field):
    with open("/proc/self/status") as file:
        return next(int(line.split()[1]) * 1024 for line in file if line.startswith(field + ":"))
import gc; gc.collect()
# Linux: writing 5 to clear_refs resets the peak (VmHWM) to the current RSS, so the setup's own
# peak does not hide the call's.
with open("/proc/self/clear_refs", "w") as file:
    file.write("5")
before, start = status("VmRSS"), time.perf_counter()
try:
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        {call}
    outcome = "loaded" + ("".join(f" ({{w.category.__name__}})" for w in warned[:1]))
except Exception as error:
    outcome = f"{{type(error).__name__}}: {{str(error)[:110]}}"
print(json.dumps({{"seconds": time.perf_counter() - start, "rss_growth": status("VmHWM") - before,
                  "child_peak": hdf5.LAST_CHILD.get("peak_rss", 0), "outcome": outcome}}))
"""

MNIST_SETUP = """
import os, hostile
arrays = {{"x_train": np.zeros((60000, 28, 28), np.uint8), "y_train": np.zeros(60000, np.uint8),
          "x_test": np.zeros((10000, 28, 28), np.uint8), "y_test": np.zeros(10000, np.uint8)}}
mnist.EXPECTED = {{k: cache.ArraySpec(a.shape, str(a.dtype), cache.sha256_array(a)) for k, a in arrays.items()}}
mnist._fetch = lambda dest: {{k: a.copy() for k, a in arrays.items()}}
os.environ["TINYNET_HOME"] = {home!r}
os.environ["KERAS_HOME"] = {home!r} + "/keras"
"""


def hostile_cases(directory, quick):
    """(name, setup code, call code, the honest case it is compared with) for each case; the files are
    built here."""
    sys.path.insert(0, str(ROBUSTNESS))
    import hostile  # noqa: E402

    d = Path(directory)
    scale = 10 if quick else 1
    cases = []

    def add(name, path, honest, call=None):
        """A case loading ``path`` (honest ones keep their bare name: the others refer to it)."""
        size = "" if path is None or honest is None else f" ({Path(path).stat().st_size:,} B)"
        cases.append((f"{name}{size}", "", call or f"load_model({str(path)!r})", honest))

    honest = d / "honest_model.npz"
    hostile.honest_model().save(honest)
    npz = "honest model file (.npz)"
    add(npz, honest, None)
    for name, path in [
        ("two Dense(6000) in the config", hostile.two_wide_dense(d, 6000)),
        ("20000-wide input in the config", hostile.wide_input(d, 20000)),
        (f"{400 // scale} MB member of zeros, deflated", hostile.inflated_member(d, (400 << 20) // scale)),
        (f"{100 // scale}M-character config", hostile.long_config(d, 100_000_000 // scale)),
        ("header claiming (2**40,)", hostile.lying_header(d)),
        ("NaN kernel", hostile.edited_weight(d, "weight/0000", lambda a: a.__setitem__((0, 0), float("nan")), "nan.npz")),
        (f"zip directory of {300_000 // scale:,} empty members", hostile.zip_flood(honest, d / "flood.npz", 300_000 // scale)),
        ("Nadam at iterations=10**12", hostile.zip_edited(honest, d / "nadam.npz", edit_member=(
            "compile_config.npy", _compile_config(hostile, honest, class_name="Nadam", iterations=10 ** 12)))),
        ("a member flagged encrypted", hostile.zip_edited(honest, d / "encrypted.npz", encrypted="weight/0000.npy")),
    ]:
        add(name, path, npz)
    fifo = d / "fifo.npz"
    os.mkfifo(fifo)
    add("/dev/zero", None, npz, "load_model('/dev/zero')")
    add("a FIFO without writer", None, npz, f"load_model({str(fifo)!r})")
    keras_cases(hostile, d, scale, add)

    home = d / "mnist_home"
    (home / "datasets").mkdir(parents=True)
    setup = MNIST_SETUP.format(home=str(home))
    honest_cache = "np.savez(cache.cache_dir() / 'mnist.npz', **arrays)\n"
    mnist_name = "honest MNIST cache (60000 + 10000 zeros)"
    cases.append((mnist_name, setup + honest_cache, "mnist.load_data()", None))
    lying_cache = ("hostile.mnist_cache_with_header(cache.cache_dir(), arrays, 'y_train', "
                   "hostile.npy_header((2 ** 40,), np.uint8))\n")
    cases.append(("MNIST cache with a header claiming (2**40,)", setup + lying_cache, "mnist.load_data()", mnist_name))

    n_images = (50000 // scale, 10000 // scale)
    honest_cifar = hostile.cifar_archive(d / "honest" / "cifar-100-python.tar.gz", n=n_images)
    cifar_name = f"honest CIFAR-100 layout, {n_images[0]} + {n_images[1]} images"
    cases.append((cifar_name, "", f"cifar100.load_data(path={str(honest_cifar)!r})", None))
    for megabytes, start in ((600 // scale, b""), (190 // scale, b""), (190 // scale, b"\x80\x02")):
        bomb = hostile.cifar_archive(d / f"bomb{megabytes}{len(start)}" / "cifar-100-python.tar.gz",
                                     inflate_train=megabytes << 20, inflate_start=start)
        what = "PROTO 2 then zeros" if start else "zeros"
        cases.append((f"CIFAR-100 ({bomb.stat().st_size:,} B), train: {megabytes} MB of {what}", "",
                      f"cifar100.load_data(path={str(bomb)!r})", cifar_name))
    return cases


def keras_cases(hostile, d, scale, add):
    """Issue 22's Keras .h5 and .keras files, each passed to ``add(name, path, honest case)``."""
    from tinynet import layers
    from tinynet.models import Sequential

    h5 = "honest Keras .h5"
    cases = [(h5, hostile.honest_h5(d), None)]
    cases += [(name, path, h5) for name, path in [
        (f"layer_names: {500_000 // scale:,} strings aliasing one 8 kB object",
         _renamed(hostile.h5_aliased_names(d, n_names=500_000 // scale, object_bytes=8192), "aliased_8k.h5")),
        ("layer_names: 60,000 strings aliasing one 64 kB object",
         _renamed(hostile.h5_aliased_names(d, n_names=60_000, object_bytes=65536), "aliased_64k.h5")),
        ("an attribute Keras does not write: 60,000 strings aliasing one 64 kB object",
         _renamed(hostile.h5_aliased_names(d, n_names=60_000, object_bytes=65536, attribute="notes"),
                  "aliased_notes.h5")),
        (f"layer_names: {16_000_000 // scale:,} one-byte names",
         hostile.h5_names(d, [b"x"] * (16_000_000 // scale), "flood.h5", fixed=True)),
        ("layer_names: 'dense' 20,000 times", hostile.h5_names(d, [b"dense"] * 20_000, "repeated.h5")),
        (f"a {10 // scale} MB activation in model_config", hostile.h5_config_setting(d, 10_000_000 // scale)),
        ("saved step count -5", hostile.h5_step_count(d, -5)),
        ("saved step count 10**12", hostile.h5_step_count(d, 10 ** 12)),
        ("a string length of 0xFFFFFFF0", hostile.h5_vlen_length(d, 0xFFFFFFF0)),
        ("a global heap header zeroed", hostile.h5_zeroed_heap_header(d)),
        # Found by a sweep of single-byte changes: with h5py 3.16 / HDF5 2.0 the library loops on it.
        ("byte 2960 set to 0x00", hostile.h5_byte_changed(d, 2960, 0x00)),
        (f"{2_450 // scale:,} optimizer weights (a group and a dataset each; names compared pairwise before)",
         hostile.h5_optimizer_weights(d, 2_450 // scale)),
        (f"{4_950 // scale:,} empty groups (4,950: the most that are walked)", hostile.h5_group_flood(d, 4_950 // scale)),
        ("20,000 empty groups", hostile.h5_group_flood(d, 20_000)),
    ]]
    big = "honest Keras .h5, Dense(630)"
    Sequential([layers.Dense(630, input_shape=(630,))]).save(d / "dense630.h5")
    cases += [(big, d / "dense630.h5", None),
              ("Dense(630) kernel in 1x1 chunks", hostile.h5_chunked_kernel(d, n_inputs=630), big)]

    keras = "honest Keras .keras"
    honest_keras = d / "honest.keras"
    hostile.honest_model().save(honest_keras)
    weights = hostile.members(honest_keras)["model.weights.h5"]
    cases += [(keras, honest_keras, None)]
    cases += [(name, path, keras) for name, path in [
        (f".keras: zip directory of {300_000 // scale:,} empty members",
         hostile.zip_flood(honest_keras, d / "flood.keras", 300_000 // scale)),
        (f".keras: model.weights.h5 inflating 95-fold to {300 // scale} MB", hostile.zip_edited(
            honest_keras, d / "inflated.keras", deflated=["model.weights.h5"], edit_member=(
                "model.weights.h5", weights + hostile.semi_compressible((300 << 20) // scale, ratio=95)))),
        (".keras: config.json flagged encrypted",
         hostile.zip_edited(honest_keras, d / "encrypted.keras", encrypted="config.json")),
        (".keras: two config.json members", hostile.zip_edited(honest_keras, d / "twice.keras", duplicate="config.json")),
    ]]
    for name, path, honest in cases:
        add(name, path, honest)


def _renamed(path, name):
    return path.replace(path.with_name(name))


def _compile_config(hostile, path, **optimizer):
    """The compile_config member of the .npz at ``path`` with the optimizer's entries changed."""
    import io

    import numpy as np
    config = json.loads(str(np.load(io.BytesIO(hostile.members(path)["compile_config.npy"]))))
    config["optimizer"].update(optimizer)
    return hostile.npy_bytes(np.array(json.dumps(config)))


def run_hostile(quick):
    with tempfile.TemporaryDirectory(prefix="tinynet-hostile-") as directory:
        print(f"{'case':66s} {'RSS growth':>11s} {'HDF5 child':>11s} {'time':>8s}  outcome")
        results, worst = {}, {"rss_growth": 0, "child_peak": 0, "seconds": 0.0}
        for name, setup, call, honest in hostile_cases(directory, quick):
            code = CHILD.format(robustness=str(ROBUSTNESS), setup=setup, call=call)
            try:
                done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
                result = json.loads(done.stdout.strip().splitlines()[-1])
            except (subprocess.TimeoutExpired, IndexError, json.JSONDecodeError):
                result = {"seconds": float("nan"), "rss_growth": 0, "child_peak": 0, "outcome": "HUNG or CRASHED"}
            results[name] = result
            child = f"{result['child_peak'] / 1e6:8.1f} MB" if result["child_peak"] else f"{'-':>11s}"
            print(f"{name:66s} {result['rss_growth'] / 1e6:8.1f} MB {child} {result['seconds']:7.3f}s  "
                  f"{result['outcome']}", flush=True)
            if honest is not None:
                base = results[honest]
                beyond = {key: result[key] - base[key] for key in worst}
                if not result["child_peak"]:  # no HDF5 child finished: the memory limit bounded it
                    beyond["child_peak"] = 0
                worst = {key: max(worst[key], beyond[key]) for key in worst}
        print(f"\nworst hostile case beyond its honest file: RSS growth {worst['rss_growth'] / 1e6:.1f} MB, "
              f"HDF5 child peak {worst['child_peak'] / 1e6:.1f} MB, time {worst['seconds']:.3f} s")


def run_fuzz(examples, keras_examples):
    """Run the fuzz tests' strategies with more inputs; print per reader what they cost. The number of failures."""
    os.environ["TINYNET_FUZZ_EXAMPLES"] = str(examples)  # read when the modules are imported
    os.environ["TINYNET_FUZZ_KERAS_EXAMPLES"] = str(keras_examples)
    sys.path.insert(0, str(ROBUSTNESS))
    modules = ["test_fuzz_readers"]
    if importlib.util.find_spec("h5py") is not None:
        modules.append("test_fuzz_keras_readers")
    failures, stats = 0, {}
    for module_name in modules:
        spec = importlib.util.spec_from_file_location(module_name, ROBUSTNESS / f"{module_name}.py")
        fuzz = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(fuzz)
        for name in sorted(vars(fuzz)):
            test = getattr(fuzz, name)
            if not name.startswith("test_") or not callable(test):
                continue
            start = time.perf_counter()
            try:
                test()
                outcome = "ok"
            except Exception as error:  # noqa: BLE001 - report it, go on with the next reader
                outcome = f"FAILED: {type(error).__name__}: {str(error)[:200]}"
                failures += 1
            print(f"{name:58s} {time.perf_counter() - start:6.1f} s  {outcome}", flush=True)
        stats.update(fuzz.STATS)
    print(f"\n{'reader':14s} {'cases':>7s} {'loaded':>7s} {'worst peak':>12s} {'HDF5 child':>11s} {'worst time':>11s}")
    for reader, numbers in stats.items():
        child = numbers.get("worst_child_peak")
        child = f"{child / 1e6:8.1f} MB" if child else f"{'-':>11s}"
        print(f"{reader:14s} {numbers['cases']:7d} {numbers['loaded']:7d} {numbers['worst_peak'] / 1e6:9.2f} MB "
              f"{child} {numbers['worst_time']:10.3f}s")
    print(f"total cases: {sum(numbers['cases'] for numbers in stats.values())}")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=None, help="fuzz inputs per strategy (default 1000)")
    parser.add_argument("--keras-examples", type=int, default=None,
                        help="fuzz inputs per strategy of the Keras readers (default: a tenth of --examples)")
    parser.add_argument("--hostile", action="store_true", help="measure the issues' hostile files at full size")
    parser.add_argument("--quick", action="store_true", help="a short run of both (files a tenth the size)")
    args = parser.parse_args()
    failures = 0
    examples = args.examples or (10 if args.quick else 1000)
    keras_examples = args.keras_examples or max(examples // 10, 2)
    if args.quick:
        failures += run_fuzz(examples, keras_examples)
        run_hostile(quick=True)
    else:
        if args.examples is not None or args.keras_examples is not None or not args.hostile:
            failures += run_fuzz(examples, keras_examples)
        if args.hostile:
            run_hostile(quick=False)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
