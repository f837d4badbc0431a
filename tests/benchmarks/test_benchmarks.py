"""The speed benchmarks run in their --quick mode, so they cannot rot. Nothing here asserts on time."""
import re

from test_examples import run_example


def test_compare_torch_quick_prints_both_models():
    output = run_example("benchmarks/compare_torch.py", "--quick", "--batch-sizes", "32")
    for model in ("cca", "tf2"):
        row = re.search(rf"^{model}\s+32 \| +([\d.]+) +(\S+) +(\S+) \|", output, re.M)
        assert row, output
        assert float(row.group(1)) > 0  # tinynet's seconds per epoch
        torch_seconds, ratio = row.group(2), row.group(3)
        # With PyTorch installed both columns are numbers, else both are '-' and the script says why.
        if torch_seconds == "-":
            assert ratio == "-" and "PyTorch is not installed" in output
        else:
            assert float(ratio) > 0


def test_optimizer_in_fit_quick_prints_the_three_variants():
    output = run_example("benchmarks/optimizer_in_fit.py", "--quick", "--batch-sizes", "32")
    match = re.search(r"batch\s+32: serial ([\d.]+) ms, threads ([\d.]+) ms \(x[\d.]+\), no update ([\d.]+) ms",
                      output)
    assert match, output
    assert all(float(value) > 0 for value in match.groups())


def test_gradient_stats_overhead_quick():
    output = run_example("benchmarks/gradient_stats_overhead.py", "--quick")
    assert re.search(r"without [\d.]+ s/epoch", output) and re.search(r"hooks: [\d.]+ s = [\d.]+% of an epoch", output)


def test_compare_checkouts_quick_compares_this_checkout_with_itself():
    output = run_example("benchmarks/compare_checkouts.py", ".", ".", "--quick")
    match = re.search(r"A ([\d.]+) ms/step, B ([\d.]+) ms/step, B / A ([\d.]+)", output)
    assert match, output
    assert all(float(value) > 0 for value in match.groups())


def test_adam_step_quick_prints_the_five_ways():
    output = run_example("benchmarks/adam_step.py", "--quick")
    times = re.findall(r"^  (textbook|twin|twin, check after|in place|in place, 2 threads) +([\d.]+) ms$", output, re.M)
    assert [name for name, _ in times] == ["textbook", "twin", "twin, check after", "in place", "in place, 2 threads"]
    assert all(float(value) > 0 for _, value in times)


def test_augmentation_overhead_quick_prints_each_way_against_the_plain_epoch():
    output = run_example("benchmarks/augmentation_overhead.py", "--quick")
    assert re.search(r"^load average [\d.]+ [\d.]+ [\d.]+", output, re.M), output
    cnn, mlp = output.split("cca MLP")
    for section, names in ((cnn, ("plain", "layers", "reference", "generator", "dataset")),
                           (mlp, ("plain", "layers", "generator", "dataset", "plain dataset"))):
        for name in names:
            row = re.search(rf"^{name}\s+([\d.]+) s/epoch\s+x([\d.]+)$", section, re.M)
            assert row and float(row.group(1)) > 0 and float(row.group(2)) > 0, output
        assert re.search(r"^plain\s+[\d.]+ s/epoch\s+x1\.00$", section, re.M), output
    assert re.search(r"layers alone on a batch of 32: fast [\d.]+ ms, naive [\d.]+ ms$", output, re.M), output


def test_conv_formulations_quick_checks_every_formulation_against_the_reference():
    output = run_example("benchmarks/conv_formulations.py", "--quick")
    for name in ("a today", "a0 reference", "b shifted products", "c direct 9-tap", "d Winograd (forward)",
                 "e batch axis (forward)", "e buffers + out=", "f channels-first", "f chain (C, N, H, W) memory",
                 "g full convolution of dz"):
        row = re.search(rf"^{re.escape(name)}.*\s([\d.]+e[-+]\d+)$", output, re.M)
        assert row, (name, output)
        assert float(row.group(1)) < 1e-4  # every formulation computes the same convolution (float32)


def test_op_budget_quick_prints_the_step_layer_by_layer():
    output = run_example("benchmarks/op_budget.py", "--quick", "--no-one-thread")
    if "PyTorch is not installed" in output:
        return
    for row in ("conv2d forward", "conv2d_1 backward", "batch_normalization backward", "Adam update", "whole step"):
        assert re.search(rf"^{row}[^\n]*?\s[\d.]+\s+[\d.]+\s+[\d.]+", output, re.M), (row, output)
