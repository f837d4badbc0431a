"""benchmarks/fuzz_readers.py in its short mode: every reader fuzzed, every hostile file of issue 12
loaded (at a tenth of its size) in a fresh process, within the targets: no hostile case more than
100 MB above what loading the honest file costs, none above 2 s."""
import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_readers.py"


def test_fuzz_readers_quick():
    done = subprocess.run([sys.executable, str(BENCHMARK), "--quick", "--examples", "3"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "FAILED" not in done.stdout and "HUNG" not in done.stdout
    worst = re.search(r"worst hostile case: RSS growth ([\d.]+) MB, time ([\d.]+) s", done.stdout)
    assert worst and float(worst.group(1)) < 100 and float(worst.group(2)) < 2.0, done.stdout[-3000:]
    for reader in ("idx", "npz model", "pickle", "mnist cache", "cifar100"):
        assert re.search(rf"^{reader}\s+\d+", done.stdout, re.M), reader
