"""The bugs a learner writes that a one-point gradient check passes: each one caught now, or explained.

Each layer below is the library's layer with one realistic mistake. A check at one point
(a fresh layer: bias 0, gamma 1; the learner's batch: one size, non-negative pixels; one
backward call on a fresh copy) passes every one of them: ``perturb=False`` shows it where
it still can. The default check looks where the defaults hide them.
"""
import numpy as np
import pytest

from tinynet import Sequential, gradcheck
from tinynet.core.ops.normalization import batch_norm_backward
from tinynet.layers import BatchNormalization, Dense, MaxPooling2D, ReLU

RNG = np.random.default_rng(0)


def rows(result):
    return {row.parameter: row for row in result.rows}


# ----- a backward right only for N = 1, checked with N = 1 ------------------------------------------
class MeanOverBatch(Dense):
    """dw averaged over the batch (dw = x.T @ dz / N): the loss already divided by N."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.kernel.grad = self.kernel.grad / len(self.cache[0])
        return dx


def test_a_backward_right_only_for_one_sample():
    x = RNG.standard_normal((1, 3))
    assert gradcheck.check_layer(MeanOverBatch(4), x, perturb=False, verbose=False).passed     # fooled
    result = gradcheck.check_layer(MeanOverBatch(4), x, verbose=False)
    kernel = rows(result)["kernel"]
    assert not result.passed and kernel.status == "FAIL"
    assert kernel.at["your point"].status == "pass" and kernel.at["perturbed"].status == "FAIL"
    assert "right at your point, wrong at perturbed" in kernel.reason and "one batch size" in kernel.reason


# ----- dw = |x|.T @ dz, on MNIST-like non-negative pixels ---------------------------------------------
class AbsInput(Dense):
    def backward(self, dout):
        dx = super().backward(dout)
        (x,) = self.cache
        self.kernel.grad = np.abs(x).T @ dout
        return dx


def test_abs_of_the_input_on_non_negative_pixels():
    pixels = RNG.random((4, 6))                                    # in [0, 1), as x / 255
    assert gradcheck.check_layer(AbsInput(3), pixels, perturb=False, verbose=False).passed     # fooled
    result = gradcheck.check_layer(AbsInput(3), pixels, verbose=False)
    assert not result.passed and rows(result)["kernel"].at["perturbed"].status == "FAIL"
    assert "non-negative inputs" in rows(result)["kernel"].reason


# ----- batch norm forgetting gamma, on a fresh layer (gamma = 1) ---------------------------------------
class NoGamma(BatchNormalization):
    def __init__(self, **kwargs):
        super().__init__(impl="naive", **kwargs)

    def backward(self, dout):
        training, cache = self.cache
        dx, dgamma, dbeta = batch_norm_backward(dout, cache._replace(gamma=np.ones_like(cache.gamma)))
        self.gamma.grad[...], self.beta.grad[...] = dgamma, dbeta
        return dx


def test_batch_norm_that_forgets_gamma():
    x = RNG.standard_normal((6, 3))
    assert gradcheck.check_layer(NoGamma(), x, perturb=False, verbose=False).passed            # fooled
    result = gradcheck.check_layer(NoGamma(), x, verbose=False)
    assert not result.passed and rows(result)["input"].at["perturbed"].status == "FAIL"
    assert rows(result)["gamma"].passed and rows(result)["beta"].passed


# ----- a bias gradient wrong only when the bias is not zero -------------------------------------------
class DecayedBias(Dense):
    """Weight decay put on the bias's gradient by hand, with no penalty in the loss."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.bias.grad = self.bias.grad + self.bias.data
        return dx


def test_a_bias_gradient_wrong_only_when_the_bias_is_not_zero():
    x = RNG.standard_normal((4, 3))
    assert gradcheck.check_layer(DecayedBias(2), x, perturb=False, verbose=False).passed       # fooled
    result = gradcheck.check_layer(DecayedBias(2), x, verbose=False)
    bias = rows(result)["bias"]
    assert bias.status == "FAIL" and bias.at["your point"].status == "pass"
    assert "default weights (bias 0, gamma 1)" in bias.reason


# ----- gradients accumulated with += ------------------------------------------------------------------
class Accumulates(Dense):
    def backward(self, dout):
        (x,) = self.cache
        dz = dout
        self.kernel.grad += x.T @ dz
        self.bias.grad += dz.sum(axis=0)
        return dz @ self.kernel.data.T


def test_gradients_added_with_plus_equals():
    x = RNG.standard_normal((4, 3))
    result = gradcheck.check_layer(Accumulates(2), x, verbose=False)
    kernel, bias = rows(result)["kernel"], rows(result)["bias"]
    assert kernel.status == bias.status == "FAIL"
    assert kernel.at["your point"].status == "FAIL"          # the warm-up step catches it at the first point
    assert "ADDS to Parameter.grad (+=)" in kernel.reason and "ADDS" in bias.reason
    assert rows(result)["input"].passed


# ----- a stale cache, a stale dx ----------------------------------------------------------------------
class CachesOnce(Dense):
    """Keeps the cache of its first forward: right on a fresh layer checked once."""

    def forward(self, x, training=False):
        first = self.cache
        y = super().forward(x, training)
        if first is not None:
            self.cache = first
        return y


class LaggingDx(ReLU):
    """Returns the dx of the previous call (its first call returns its own)."""

    def backward(self, dout):
        dx = super().backward(dout)
        previous = getattr(self, "previous_dx", dx)
        self.previous_dx = dx
        return previous


def test_a_stale_cache_and_a_stale_dx():
    x = RNG.standard_normal((4, 3))
    assert gradcheck.check_layer(CachesOnce(2), x, perturb=False, verbose=False).passed      # fooled
    result = gradcheck.check_layer(CachesOnce(2), x, verbose=False)
    failed = rows(result)["input"].at["perturbed"]      # the kept cache has 4 rows, the batch now 3
    assert not result.passed and failed.status == "FAIL"
    assert "raised ValueError" in failed.reason and "a cache or a dx of an earlier call" in failed.reason
    result = gradcheck.check_layer(LaggingDx(), x, verbose=False)
    row = rows(result)["input"]
    assert row.status == "FAIL" and "equals what backward gave at the previous call" in row.reason


def test_the_layer_returning_a_stale_dx_is_named_not_the_layer_before_it():
    model = Sequential([Dense(5, input_shape=(3,), name="first"), LaggingDx(name="lagging"),
                        Dense(3, activation="softmax", name="last")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    lines = []
    result = gradcheck.check_model(model, RNG.standard_normal((4, 3)), [0, 1, 2, 0], print_fn=lines.append)
    table = result.table()
    assert result.culprits == ["lagging"]
    assert "The culprit: 'lagging'" in table
    first_kernel = next(row for row in result.rows if row.name == "first/kernel")
    assert first_kernel.status == "FAIL" and first_kernel.own.status == "pass"
    assert "its own backward is right: the wrong dL/dy came from a later layer" in first_kernel.reason
    lagging_dx = next(row for row in result.rows if row.name == "lagging/dx")
    assert lagging_dx.own.status == "FAIL" and "previous call" in lagging_dx.reason
    assert all(row.passed for row in result.rows if row.layer == "last")


def test_a_layer_named_in_a_model_with_plus_equals():
    model = Sequential([Dense(4, activation="tanh", input_shape=(3,), name="first"), Accumulates(5, name="middle"),
                        Dense(3, activation="softmax", name="last")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    result = gradcheck.check_model(model, RNG.standard_normal((3, 3)), [0, 1, 2], verbose=False)
    assert result.culprits == ["middle"]
    assert "ADDS" in next(row for row in result.rows if row.name == "middle/kernel").reason


# ----- a wrong row of a weight, skipped by max_entries=50 ----------------------------------------------
class WrongRow(Dense):
    def backward(self, dout):
        dx = super().backward(dout)
        self.kernel.grad[7] = 0.0                                  # row 7 of dw forgotten
        return dx


def test_a_wrong_row_outside_the_sample_is_found_by_the_directions():
    x = RNG.standard_normal((3, 60))                                 # a (60, 30) kernel: 1800 entries
    missed = 0
    for seed in range(6):
        result = gradcheck.check_layer(WrongRow(30), x, max_entries=50, sample_seed=seed, verbose=False)
        kernel = rows(result)["kernel"]
        assert kernel.status == "FAIL", seed
        assert all(c.status == "FAIL" for c in kernel.at.values()), seed
        missed += sum("entries outside the sample are wrong" in c.reason for c in kernel.at.values())
    assert missed >= 1          # a sample of 50 in 1800 misses row 7 with p = 0.43: the directions still see it


# ----- messages that must not mislead ------------------------------------------------------------------
class NoisyEveryFifthCall(Dense):
    """A correct backward; forward adds noise on every fifth call (a counter: state kept between calls)."""

    calls = 0

    def forward(self, x, training=False):
        y = super().forward(x, training)
        self.calls += 1
        return y + 1e-3 * np.random.default_rng(self.calls).standard_normal(y.shape) if self.calls % 5 == 0 else y


def test_noise_every_fifth_call_blames_no_backward():
    lines = []
    try:
        result = gradcheck.check_layer(NoisyEveryFifthCall(4), RNG.standard_normal((5, 3)), print_fn=lines.append)
    except ValueError as error:          # the first evaluations already differed: also no blame
        assert "not repeatable" in str(error)
        return
    assert not result.passed and not result.repeatable
    assert all(row.status != "FAIL" for row in result.rows)
    assert any(row.status == "not repeatable" for row in result.rows)
    assert "THE CHECK COULD NOT JUDGE BACKWARD" in lines[0] and "SOME GRADIENTS DISAGREE" not in lines[0]


class LastBitWobble(Dense):
    """Sums in another order on every other call: f differs in its last bits, nothing else."""

    calls = 0

    def forward(self, x, training=False):
        self.calls += 1
        if self.calls % 2:
            return super().forward(x, training)
        self.cache = (x,)
        w = self.kernel.data
        return x[:, ::-1] @ w[::-1] + self.bias.data


def test_a_last_bit_difference_between_calls_is_rounding_not_randomness():
    x = RNG.standard_normal((6, 7)) * 3
    for seed in (None, 0):
        result = gradcheck.check_layer(LastBitWobble(5), x, seed=seed, verbose=False)
        assert result.passed, result.table()


# ----- what no finite check can see, said ---------------------------------------------------------------
class WrongOnlyForLargeInputs(Dense):
    def backward(self, dout):
        dx = super().backward(dout)
        (x,) = self.cache
        return np.where(np.abs(x) > 100, 0.0, dx)


def test_a_bug_at_points_never_visited_passes_and_the_report_says_so():
    result = gradcheck.check_layer(WrongOnlyForLargeInputs(3), RNG.standard_normal((4, 2)), verbose=False)
    assert result.passed
    assert any("other than the points above" in note for note in result.not_looked_at)


class EveryTiedMaximum(MaxPooling2D):
    """Gives each window's gradient to every input equal to its maximum (the classic tie mistake)."""

    def backward(self, dout):
        (x,) = self.cache_input
        windows = x.reshape(x.shape[0], x.shape[1] // 2, 2, x.shape[2] // 2, 2, x.shape[3])
        is_max = windows == windows.max(axis=(2, 4), keepdims=True)
        return (is_max * dout[:, :, None, :, None, :]).reshape(x.shape)

    def forward(self, x, training=False):
        self.cache_input = (x,)
        return super().forward(x, training)


def test_a_tie_rule_cannot_be_judged_by_differences_and_the_report_says_why():
    x = RNG.standard_normal((1, 4, 4, 1))
    x[0, 0, 1, 0] = x[0, 0, 0, 0] = 5.0                           # a tie in the first window
    result = gradcheck.check_layer(EveryTiedMaximum(2), x, verbose=False)
    assert all(row.status != "FAIL" for row in result.rows)
    assert rows(result)["input"].skipped == 2
    assert any("no centred difference can judge which subgradient" in note for note in result.not_looked_at)
    # the exercises grade the tie rule against the library's (examples/course, tests/test_course_exercises.py)


def test_a_wrong_layer_in_one_branch_of_a_fork_is_named_not_the_add_that_joins_them():
    """A graph model: trunk -> (left, right) -> Add -> out. The Add takes two inputs, so it cannot be run
    alone on the one input the step reports: it is said, and never blamed (it was named with 'left' before)."""
    import tinynet
    from tinynet.layers import Add
    inputs = tinynet.Input((3,))
    trunk = Dense(5, activation="tanh", name="trunk")(inputs)
    joined = Add(name="sum")([AbsInput(4, name="left")(trunk), Dense(4, activation="tanh", name="right")(trunk)])
    model = tinynet.Model(inputs, Dense(3, activation="softmax", name="out")(joined))
    model.compile("sgd", "sparse_categorical_crossentropy")
    result = gradcheck.check_model(model, RNG.random((4, 3)), [0, 1, 2, 0], verbose=False)
    assert result.culprits == ["left"]
    assert next(row for row in result.rows if row.name == "left/kernel").own.status == "FAIL"
    assert all(row.passed for row in result.rows if row.layer in ("right", "out"))
    assert any("'sum' (Add) alone" in note for note in result.not_looked_at)


def test_a_layer_called_twice_is_not_blamed_for_the_wrong_layer_after_it():
    """shared(shared(x)): its gradients sum both calls, so one call alone cannot be compared with them."""
    import tinynet
    inputs = tinynet.Input((4,))
    shared = Dense(4, activation="tanh", name="shared")
    model = tinynet.Model(inputs, Dense(3, activation="softmax", name="out")(AbsInput(4, name="mid")(
        shared(shared(inputs)))))
    model.compile("sgd", "sparse_categorical_crossentropy")
    result = gradcheck.check_model(model, RNG.standard_normal((4, 4)), [0, 1, 2, 0], verbose=False)
    assert result.culprits == ["mid"]
    assert all(row.passed for row in result.rows if row.layer == "shared")
    assert any("'shared' (Dense) alone: it runs twice in one step" in note for note in result.not_looked_at)
