"""Fuzz the file readers longer than the test suite does, and measure the hostile files of issue 12.

    python benchmarks/fuzz_readers.py --examples 1000      # fuzz campaign
    python benchmarks/fuzz_readers.py --hostile            # the issue's files, at full size
    python benchmarks/fuzz_readers.py --quick              # both, small (what CI runs)

The fuzz campaign runs every test of tests/robustness/test_fuzz_readers.py with ``--examples``
inputs per strategy and prints, per reader, the cases run, how many loaded, and the worst
memory peak (tracemalloc) and time of a single case.

``--hostile`` builds each file the issue measured (tests/robustness/hostile.py) and loads it in a
fresh Python process, which reports its peak RSS growth during the call (the peak VmHWM, reset
through /proc/self/clear_refs before the call, minus VmRSS before it; Linux only) and the time;
the honest files' numbers come first, for comparison.
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
print(json.dumps({{"seconds": time.perf_counter() - start, "rss_growth": status("VmHWM") - before, "outcome": outcome}}))
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
    """(name, setup code, call code) for each case; the files are built here."""
    sys.path.insert(0, str(ROBUSTNESS))
    import hostile  # noqa: E402

    d = Path(directory)
    scale = 10 if quick else 1
    honest = d / "honest_model.npz"
    hostile.honest_model().save(honest)
    cases = [("honest model file", "", f"load_model({str(honest)!r})")]
    for name, path in [
        ("two Dense(6000) in the config", hostile.two_wide_dense(d, 6000)),
        ("20000-wide input in the config", hostile.wide_input(d, 20000)),
        (f"{400 // scale} MB member of zeros, deflated", hostile.inflated_member(d, (400 << 20) // scale)),
        (f"{100 // scale}M-character config", hostile.long_config(d, 100_000_000 // scale)),
        ("header claiming (2**40,)", hostile.lying_header(d)),
        ("NaN kernel", hostile.edited_weight(d, "weight/0000", lambda a: a.__setitem__((0, 0), float("nan")), "nan.npz")),
    ]:
        cases.append((f"{name} ({path.stat().st_size:,} B)", "", f"load_model({str(path)!r})"))
    fifo = d / "fifo.npz"
    os.mkfifo(fifo)
    cases += [("/dev/zero", "", "load_model('/dev/zero')"), ("a FIFO without writer", "", f"load_model({str(fifo)!r})")]

    home = d / "mnist_home"
    (home / "datasets").mkdir(parents=True)
    setup = MNIST_SETUP.format(home=str(home))
    honest_cache = "np.savez(cache.cache_dir() / 'mnist.npz', **arrays)\n"
    cases.append(("honest MNIST cache (60000 + 10000 zeros)", setup + honest_cache, "mnist.load_data()"))
    lying_cache = ("hostile.mnist_cache_with_header(cache.cache_dir(), arrays, 'y_train', "
                   "hostile.npy_header((2 ** 40,), np.uint8))\n")
    cases.append(("MNIST cache with a header claiming (2**40,)", setup + lying_cache, "mnist.load_data()"))

    n_images = (50000 // scale, 10000 // scale)
    honest_cifar = hostile.cifar_archive(d / "honest" / "cifar-100-python.tar.gz", n=n_images)
    cases.append((f"honest CIFAR-100 layout, {n_images[0]} + {n_images[1]} images", "",
                  f"cifar100.load_data(path={str(honest_cifar)!r})"))
    for megabytes, start in ((600 // scale, b""), (190 // scale, b""), (190 // scale, b"\x80\x02")):
        bomb = hostile.cifar_archive(d / f"bomb{megabytes}{len(start)}" / "cifar-100-python.tar.gz",
                                     inflate_train=megabytes << 20, inflate_start=start)
        what = "PROTO 2 then zeros" if start else "zeros"
        cases.append((f"CIFAR-100 ({bomb.stat().st_size:,} B), train: {megabytes} MB of {what}", "",
                      f"cifar100.load_data(path={str(bomb)!r})"))
    return cases


def run_hostile(quick):
    with tempfile.TemporaryDirectory(prefix="tinynet-hostile-") as directory:
        print(f"{'case':62s} {'RSS growth':>11s} {'time':>8s}  outcome")
        worst = {"rss_growth": 0, "seconds": 0.0}
        for name, setup, call in hostile_cases(directory, quick):
            code = CHILD.format(robustness=str(ROBUSTNESS), setup=setup, call=call)
            try:
                done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
                result = json.loads(done.stdout.strip().splitlines()[-1])
            except (subprocess.TimeoutExpired, IndexError, json.JSONDecodeError):
                result = {"seconds": float("nan"), "rss_growth": 0, "outcome": "HUNG or CRASHED"}
            print(f"{name:62s} {result['rss_growth'] / 1e6:8.1f} MB {result['seconds']:7.3f}s  {result['outcome']}",
                  flush=True)
            if not name.startswith("honest"):
                worst = {key: max(worst[key], result[key]) for key in worst}
        print(f"\nworst hostile case: RSS growth {worst['rss_growth'] / 1e6:.1f} MB, time {worst['seconds']:.3f} s")


def run_fuzz(examples):
    os.environ["TINYNET_FUZZ_EXAMPLES"] = str(examples)  # read when the module is imported
    sys.path.insert(0, str(ROBUSTNESS))
    spec = importlib.util.spec_from_file_location("test_fuzz_readers", ROBUSTNESS / "test_fuzz_readers.py")
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)
    failures = 0
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
    print(f"\n{'reader':14s} {'cases':>7s} {'loaded':>7s} {'worst peak':>12s} {'worst time':>11s}")
    for reader, stats in fuzz.STATS.items():
        print(f"{reader:14s} {stats['cases']:7d} {stats['loaded']:7d} {stats['worst_peak'] / 1e6:9.2f} MB "
              f"{stats['worst_time']:10.3f}s")
    print(f"total cases: {sum(s['cases'] for s in fuzz.STATS.values())}")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=None, help="fuzz inputs per strategy (default 1000)")
    parser.add_argument("--hostile", action="store_true", help="measure the issue's hostile files at full size")
    parser.add_argument("--quick", action="store_true", help="a short run of both (files a tenth the size)")
    args = parser.parse_args()
    failures = 0
    if args.quick:
        failures += run_fuzz(args.examples or 10)
        run_hostile(quick=True)
    else:
        if args.examples is not None or not args.hostile:
            failures += run_fuzz(args.examples or 1000)
        if args.hostile:
            run_hostile(quick=False)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
