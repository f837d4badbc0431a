"""Grade the course's exercises against tinynet itself, on the cases that catch the classic mistakes.

    python examples/course/grade.py                       # every exercise, in examples/course/exercises/
    python examples/course/grade.py affine maxpool        # just these
    python examples/course/grade.py --hints               # a hint for each exercise not passed yet
    python examples/course/grade.py --dir my_solutions    # your files elsewhere (same file names)
    python examples/course/grade.py --answers             # the answer key: every exercise passes

For each exercise the grader runs your functions on several cases (a batch of one, negative
inputs, large logits, ties, overlapping windows, several optimizer steps, ...: ``cases.py``),
compares every output with what the library computes, and prints the first case that goes
wrong: which output, by how much, and where. An exp that overflows, a log(0) or 0/0 counts as
wrong. A hint asks the question that leads to the fix; it does not give the formula.
"""
import argparse
import importlib.util
import os
import sys
import warnings
from dataclasses import dataclass, field

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))   # the repository, for an uninstalled tinynet

import cases  # noqa: E402


@dataclass
class Exercise:
    lesson: str                 # the file of the lesson: layers, losses, conv, ...
    functions: tuple            # what you write
    run: object                 # cases.<name>(module, rng): yields Checks
    hint: str                   # where to start
    case_hints: dict = field(default_factory=dict)   # a hint for the case that failed first


EXERCISES = {
    "affine": Exercise("layers", ("affine_forward", "affine_backward"), cases.affine,
                       "Each gradient has the shape of its array: dw is (D, M). Which two arrays you have, multiplied, "
                       "give (D, M)? And w[d, m] is used by every sample: what happens to the gradients it gets?",
                       {"batch of one": "With one sample, a sum over samples and a copy of it look alike, and so do a "
                                        "sum and a mean. Which did you write?",
                        "square w (D = M)": "Here w and w.T have the same shape, so a missing transpose cannot show "
                                            "as a shape error. Write out one entry, dx[n, d], as a sum over m."}),
    "relu": Exercise("layers", ("relu_forward", "relu_backward"), cases.relu,
                     "Where does a small change of x change the output, and by how much?",
                     {"exact zeros": "What slope does your backward use at x == 0 exactly? The docstring says which "
                                     "one tinynet (and Keras, and PyTorch) use."}),
    "sigmoid": Exercise("layers", ("sigmoid_forward", "sigmoid_backward"), cases.sigmoid,
                        "Differentiate 1 / (1 + e^-x) and write the result in terms of the output itself: then "
                        "backward needs no exp.",
                        {"large |x| (-1000 ... 1000)": "What is np.exp(1000)? Both 1 / (1 + e^-x) and e^x / (1 + e^x) "
                                                       "are the sigmoid: which one is safe for x < 0, which for x >= 0? "
                                                       "Beware: np.where computes both branches."}),
    "tanh": Exercise("layers", ("tanh_forward", "tanh_backward"), cases.tanh,
                     "d tanh(x)/dx can be written with tanh(x) alone. Which of x and out does your cache hold?"),
    "softmax": Exercise("layers", ("softmax_forward", "softmax_backward"), cases.softmax,
                        "Each p_i depends on every z_k of its row. Write dp_i/dz_k for i == k and i != k, then sum "
                        "dout_i * dp_i/dz_k over i.",
                        {"large logits (z ~ 1000)": "softmax(z) = softmax(z - c) for any c of the row. Which c keeps "
                                                    "every exp at most 1?",
                         "rows far apart": "Is your c one number for the whole batch, or one per row?",
                         "ties (equal logits)": "Equal logits must give equal probabilities, and finite gradients."}),
    "dropout": Exercise("layers", ("dropout_forward", "dropout_backward"), cases.dropout,
                        "At test time nothing is dropped. For the expected output to be the same in training, what "
                        "must a kept entry be multiplied by?",
                        {"training=False": "Inverted dropout does all its scaling in training.",
                         "training, rate 0.2": "rate is the probability of DROPPING an entry. And backward must use "
                                               "the forward's mask: keep it in the cache."}),
    "softmax_cross_entropy": Exercise(
        "losses", ("softmax_cross_entropy",), cases.softmax_cross_entropy,
        "Write L for one sample as -z_y + log sum_j exp z_j and differentiate by z_k. The loss is a mean over N: "
        "where does 1/N go?",
        {"large logits (z ~ 1000)": "log(softmax(z)) underflows to log(0) long before z - log sum exp z does. Can you "
                                    "compute log p without computing p first?",
         "confident and wrong": "A probability of e^-120 rounds to 0 in p, not in log p.",
         "batch of one": "With N = 1 a sum and a mean agree: with N = 4 do they?"}),
    "mse": Exercise("losses", ("mse",), cases.mse,
                    "The mean is over every entry, N*K of them. Differentiate one term (y_pred - y)^2 first.",
                    {"one output (K=1)": "Which count did you divide by: N, K, or N*K?"}),
    "l2_penalty": Exercise("losses", ("l2_penalty",), cases.l2_penalty,
                           "d(w^2)/dw: what comes down from the exponent?"),
    "conv_naive": Exercise("conv", ("conv_forward_naive", "conv_backward_naive"), cases.conv_naive,
                           "Loop over output pixels (i, j): each is a dot product of one window with each filter. In "
                           "backward, every window you read in forward sends gradient back to the same cells.",
                           {"3x3 kernel, stride 2 (windows overlap)": "Where two windows share a pixel, its gradient "
                                                                      "gets two contributions. Do you add them, or "
                                                                      "does the second overwrite the first?",
                            "3x2 kernel on a 5x6 image": "Is the kernel flipped? Deep-learning convolution is a "
                                                         "cross-correlation: w[di, dj] multiplies x[i*s + di, j*s + dj].",
                            "1x1 kernel": "Which axes does db sum over? Every output pixel of every sample used b."}),
    "conv_im2col": Exercise("conv", ("im2col", "col2im", "conv_forward_im2col", "conv_backward_im2col"),
                            cases.conv_im2col,
                            "On im2col's rows the convolution IS an affine layer: reuse lesson 1's backward on "
                            "(cols, w_col), then fold dcols back with col2im.",
                            {"3x3 kernel, stride 1": "Are the columns in (di, dj, c) order, the order of "
                                                     "w.reshape(kh*kw*C, F)? And does col2im add where windows "
                                                     "overlap?",
                             "3x3 kernel, stride 2 (windows overlap)": "Does your slice step by the stride?"}),
    "maxpool": Exercise("pooling", ("maxpool_forward", "maxpool_backward"), cases.maxpool,
                        "Only a window's maximum influenced its output: how much does nudging any other cell change "
                        "the output?",
                        {"ties (equal maxima in a window)": "If two cells share the maximum, how many of them receive "
                                                            "the window's gradient? The docstring says which one.",
                         "all negative": "What does your forward start its running maximum from?",
                         "overlapping windows (2x2, stride 1)": "A cell can be the maximum of two windows. Does it "
                                                                "receive both gradients?"}),
    "avgpool": Exercise("pooling", ("avgpool_forward", "avgpool_backward"), cases.avgpool,
                        "Each cell contributes 1/(p*p) of itself to its window's mean.",
                        {"overlapping windows (2x2, stride 1)": "A cell in two windows gets a share from each."}),
    "batchnorm": Exercise("batchnorm", ("batchnorm_forward", "batchnorm_backward"), cases.batchnorm,
                          "Draw the forward as a graph: x feeds mean, var and xhat. Go back one node at a time: dxhat, "
                          "dvar, dmean, and dx from all three paths.",
                          {"train, x: (8, 3)": "gamma is not 1 here: where does it enter backward? Is var the biased "
                                               "one? Is eps inside the square root?",
                           "images, x: (2, 3, 3, 2)": "One statistic per channel: over which axes is the mean taken "
                                                      "for (N, H, W, C)?",
                           "test mode": "In test mode, whose statistics replace the batch's?"}),
    "batchnorm_simplified": Exercise("batchnorm", ("batchnorm_forward", "batchnorm_backward_simplified"),
                                     cases.batchnorm_simplified,
                                     "Substitute dvar and dmean into dx on paper; use sum(xhat) = 0. What is "
                                     "sum(dxhat * xhat) in terms of dgamma?"),
    "sgd_momentum": Exercise("optim", ("sgd_momentum",), cases.sgd_momentum,
                             "The velocity is state: where does it live between two calls?",
                             {"first step": "On the first step the velocity starts at 0: is your step already "
                                            "-learning_rate * dw?"}),
    "rmsprop": Exercise("optim", ("rmsprop",), cases.rmsprop,
                        "The cache averages the SQUARED gradient; where is it kept between calls?",
                        {"small gradients (|dw| ~ 1e-4)": "Here the cache (about 1e-9) is smaller than epsilon "
                                                          "(1e-7), so where epsilon sits decides the step. Read the "
                                                          "docstring's formula again: under the square root, or "
                                                          "beside it?"}),
    "adam": Exercise("optim", ("adam",), cases.adam,
                     "m and v start at 0, so their first averages are too small. By how much, after t steps?",
                     {"first step": "After one step m = (1 - beta1) dw. What should the estimate of the mean gradient "
                                    "be? And is t incremented before you use it?"}),
    "two_layer_net": Exercise("network", ("two_layer_net",), cases.two_layer_net,
                              "Chain lesson 1's forwards, the loss, then the backwards in reverse order. The penalty "
                              "is part of the loss: its gradient joins the kernels' (not the biases').",
                              {"l2 = 0.1": "Did the penalty reach both the loss and the gradients? Which arrays carry "
                                           "it?",
                               "large scores": "Does your loss survive logits in the hundreds (lesson 2)?"}),
    "train": Exercise("network", ("train",), cases.train,
                      "Read the docstring's order of events closely: one generator, a permutation per epoch, every "
                      "batch including the last smaller one, one state per parameter.",
                      {"SGD with momentum: a velocity per weight": "w and b each need a velocity of their own shape."}),
}


def load(path):
    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def modules(folder):
    """Each lesson's module from ``folder``, imported so that ``network.py`` can import ``layers``."""
    sys.path.insert(0, folder)
    for lesson in {exercise.lesson for exercise in EXERCISES.values()}:
        sys.modules.pop(lesson, None)                # another folder's lesson imported before
    try:
        return {lesson: load(os.path.join(folder, f"{lesson}.py")) for lesson in
                sorted({exercise.lesson for exercise in EXERCISES.values()})}
    finally:
        sys.path.remove(folder)


def grade_one(name, module, seed=0, print_fn=print, hints=False):
    """Grade one exercise on all its cases; returns True if every output of every case is right."""
    exercise = EXERCISES[name]
    missing = [f for f in exercise.functions if not hasattr(module, f)]
    if missing:
        print_fn(f"{name}: no function {', '.join(missing)} in {module.__file__}")
        return False
    checks = []
    cases.running["case"] = ""
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise"), warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            for check in exercise.run(module, np.random.default_rng(seed)):
                checks.append(check)
                if not check.ok:
                    break
    except NotImplementedError as error:
        print_fn(f"{name}: not written yet ({error})")
        if hints:
            print_fn(f"    hint: {exercise.hint}")
        return False
    except Exception as error:  # noqa: BLE001 - any error in the learner's code is reported, not raised
        case = cases.running["case"]
        print_fn(f"{name}: raised {type(error).__name__}: {error}" + (f" (case '{case}')" if case else ""))
        if hints:
            print_fn(f"    hint: {exercise.case_hints.get(case, exercise.hint)}")
        return False
    wrong = next((check for check in checks if not check.ok), None)
    if wrong is None:
        cases_seen = list(dict.fromkeys(check.case for check in checks))
        print_fn(f"{name}: PASS ({len(cases_seen)} cases: {'; '.join(cases_seen)})")
        return True
    print_fn(f"{name}: not yet -- case '{wrong.case}': {wrong.output} WRONG: {wrong.message}")
    right = [check.output for check in checks if check.ok and check.case == wrong.case]
    if right:
        print_fn(f"    right in that case: {', '.join(right)}")
    if hints:
        print_fn(f"    hint: {exercise.case_hints.get(wrong.case, exercise.hint)}")
    return False


def main(argv=None, print_fn=print):
    parser = argparse.ArgumentParser(description="Grade the course's exercises.")
    parser.add_argument("exercises", nargs="*", choices=[[]] + list(EXERCISES), default=[],
                        help=f"which ones (default all): {', '.join(EXERCISES)}")
    parser.add_argument("--dir", default=os.path.join(HERE, "exercises"), help="the folder of your lesson files")
    parser.add_argument("--answers", action="store_true", help="grade the answer key (examples/course/answers)")
    parser.add_argument("--hints", action="store_true", help="a hint for each exercise not passed")
    parser.add_argument("--seed", type=int, default=0, help="the random inputs' seed")
    args = parser.parse_args(argv)
    lessons = modules(os.path.join(HERE, "answers") if args.answers else os.path.abspath(args.dir))
    names = args.exercises or list(EXERCISES)
    results = {name: grade_one(name, lessons[EXERCISES[name].lesson], args.seed, print_fn, args.hints)
               for name in names}
    print_fn(f"\n{sum(results.values())} of {len(results)} exercises pass"
             + ("" if all(results.values()) or args.hints else "; --hints gives a hint for each of the others"))
    return results


if __name__ == "__main__":
    sys.exit(0 if all(main().values()) else 1)
