"""A longer fuzzing run of the three file readers than the test suite's.

    python benchmarks/fuzz_readers.py --examples 1000

Runs every fuzz test of tests/test_fuzz_readers.py with ``--examples`` inputs per
strategy and prints, per reader, the inputs tried, how many loaded, and whether
every input either loaded or raised the reader's documented error. Tests marked
as known failures are run too and reported as such (they stop at their first
failing input).
"""
import argparse
import importlib.util
import os
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests" / "test_fuzz_readers.py"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="inputs per strategy (default 1000)")
    args = parser.parse_args()
    os.environ["TINYNET_FUZZ_EXAMPLES"] = str(args.examples)  # read when the module is imported
    spec = importlib.util.spec_from_file_location("test_fuzz_readers", TESTS)
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)

    results = {}
    for name in sorted(vars(fuzz)):
        test = getattr(fuzz, name)
        if not name.startswith("test_") or not callable(test):
            continue
        marks = [mark.name for mark in getattr(test, "pytestmark", [])]
        before = dict(fuzz.TRIED)
        start = time.perf_counter()
        try:
            test()
            outcome = "ok"
        except Exception as error:  # noqa: BLE001 - report it, go on with the next reader
            outcome = f"{'known failure' if 'xfail' in marks else 'FAILED'}: {type(error).__name__}"
        tried = {reader: fuzz.TRIED[reader] - before[reader] for reader in before}
        results[name] = (outcome, tried, time.perf_counter() - start)
        print(f"{name:58s} {outcome:32s} {sum(tried.values()):7d} inputs {results[name][2]:6.1f} s", flush=True)
    print("\nInputs tried per reader:", {reader: count for reader, count in fuzz.TRIED.items()})


if __name__ == "__main__":
    main()
