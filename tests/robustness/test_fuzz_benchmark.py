"""benchmarks/fuzz_readers.py in its short mode: every reader fuzzed, every hostile file of issues 12
and 22 loaded (at a tenth of its size) in a fresh process, within the targets: no hostile case more
than 100 MB (in this process, and in the child that reads HDF5) and 2 s beyond what loading the
honest file of its format costs."""
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_readers.py"


def test_fuzz_readers_quick():
    done = subprocess.run([sys.executable, str(BENCHMARK), "--quick", "--examples", "3", "--keras-examples", "2"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "FAILED" not in done.stdout and "HUNG" not in done.stdout
    worst = re.search(r"worst hostile case beyond its honest file: RSS growth (-?[\d.]+) MB, "
                      r"HDF5 child peak (-?[\d.]+) MB, time (-?[\d.]+) s", done.stdout)
    assert worst, done.stdout[-3000:]
    rss, child, seconds = map(float, worst.groups())
    assert rss < 100 and child < 100 and seconds < 2.0, done.stdout[-3000:]
    readers = ["idx", "npz model", "pickle", "mnist cache", "cifar100"]
    if importlib.util.find_spec("h5py") is not None:
        readers += ["keras h5", "keras archive", "keras weights"]
    for reader in readers:
        assert re.search(rf"^{reader}\s+\d+", done.stdout, re.M), reader
