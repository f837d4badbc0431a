"""What every demo shares: the spiral data set, the command line, and saving the picture.

The spirals are CS231n's toy problem: K arms of N points each in the plane, one class per
arm. No straight line separates them, a two-layer network does, and every demo runs in
seconds on it -- the point of a lecture demo.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(HERE))))   # the repository, uninstalled


def spirals(points_per_class=100, classes=3, noise=0.2, seed=0):
    """``(x, y)``: x (N*K, 2) float32 points on K spiral arms, y (N*K,) their arm. Reproducible by ``seed``."""
    rng = np.random.default_rng(seed)
    x, y = [], []
    for k in range(classes):
        radius = np.linspace(0.0, 1.0, points_per_class)
        angle = np.linspace(k * 4.0, (k + 1) * 4.0, points_per_class) + noise * rng.standard_normal(points_per_class)
        x.append(np.c_[radius * np.sin(angle), radius * np.cos(angle)])
        y.append(np.full(points_per_class, k))
    return np.concatenate(x).astype(np.float32), np.concatenate(y)


def arguments(description, default_plot):
    """``--quick`` (what the tests run: fewer steps) and ``--plot PATH``; a notebook passes neither."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="fewer epochs: a smoke run (the tests use it)")
    parser.add_argument("--plot", default=default_plot, help=f"where to save the picture (default {default_plot})")
    return parser.parse_args([] if "ipykernel" in sys.modules else None)


def save(figure, path):
    """Save the picture, and say where: the lecture shows it."""
    figure.savefig(path, dpi=110, bbox_inches="tight")
    print(f"picture: {path}")


def epoch_axis(ax):
    """An x-axis of epochs: labelled, with whole-number ticks only (there is no epoch 1.25)."""
    from matplotlib.ticker import MaxNLocator
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def result(**values):
    """The one line the tests read: ``RESULT key=value ...``."""
    print("RESULT " + " ".join(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
                                for key, value in values.items()))
