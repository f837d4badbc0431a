"""The two sanity checks to run before a long training (CS231n, "Babysitting the learning process").

    from tinynet import sanity
    sanity.check_initial_loss(model, x[:100], y[:100])   # the untrained loss is ln K at chance
    sanity.check_overfit(model, x, y)                     # 20 samples can be learned to 100 %

Each returns a ``SanityResult`` (``passed``, the numbers, and ``message``: what it means and
what to try when it fails) and prints the message. Neither changes the model: the loss is
computed on the model as it is (inference mode), and the overfitting runs on a copy.
"""
import copy
import math
from dataclasses import dataclass

from ..core.checks import check_bool, check_float, check_int
from .gradcheck import prepare_data


@dataclass
class SanityResult:
    passed: bool
    value: float        # the initial loss, or the training accuracy reached
    expected: float     # ln K, or 1.0
    message: str
    epochs: int = 0     # check_overfit: the epochs it took (or ran)

    def __bool__(self):
        return self.passed


def _classes(model):
    return int(model.output_shape[-1])


def check_initial_loss(model, x, y, tolerance=0.25, verbose=True, print_fn=print):
    """The loss of an untrained classifier should be about ln K (K classes; ln 2 per output for binary).

    At initialisation the predictions should be close to uniform, so the cross-entropy is
    -ln(1/K) = ln K (2.303 for 10 classes). Passes when ``|loss - ln K| <= tolerance * ln K``.
    x, y: a batch (100 samples or so), checked as ``fit`` checks them.
    """
    tolerance = check_float(tolerance, "tolerance", minimum=0, min_open=True)
    check_bool(verbose, "verbose")
    x, y = prepare_data(model, x, y, "check_initial_loss")
    name = model.loss.name
    if name not in ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"):
        raise ValueError(f"check_initial_loss needs a cross-entropy loss (its value at chance is known). "
                         f"Received: loss={name!r}")
    classes = 2 if name == "binary_crossentropy" else _classes(model)
    expected = math.log(classes)
    loss = float(model.compute_loss(y, model.forward(x, training=False, logits=True)))
    passed = abs(loss - expected) <= tolerance * expected
    if passed:
        message = (f"initial loss {loss:.4g} is close to ln({classes}) = {expected:.4g}, the loss of uniform "
                   "predictions: the model starts at chance, as it should.")
    elif loss > expected:
        message = (f"initial loss {loss:.4g} is far above ln({classes}) = {expected:.4g}, the loss at chance: the "
                   "untrained model is confidently wrong. Usual causes: initial weights too large (use glorot_uniform "
                   "or he_normal, not random_normal with a large stddev), unscaled inputs (divide pixels by 255), or "
                   "labels that do not match the loss (one-hot labels with sparse_categorical_crossentropy).")
    else:
        message = (f"initial loss {loss:.4g} is far below ln({classes}) = {expected:.4g}, the loss at chance, before "
                   "any training: the model was trained already (pass a fresh one), or the labels leak into the "
                   "inputs, or most samples share one label (an unbalanced batch).")
    if verbose:
        print_fn(message)
    return SanityResult(passed, loss, expected, message)


def _accuracy(model, x, labels):
    prediction = model.predict(x)
    if prediction.shape[-1] == 1:
        return float(((prediction.reshape(-1) > 0.5) == labels.reshape(-1)).mean())
    return float((prediction.argmax(axis=-1) == labels).mean())


def check_overfit(model, x, y, samples=20, epochs=200, batch_size=None, verbose=True, print_fn=print):
    """A model that works can learn ``samples`` training samples by heart: 100 % training accuracy.

    Trains a copy of ``model`` (its weights and optimizer state are left alone) on the first
    ``samples`` samples for at most ``epochs`` epochs, with its compiled optimizer, and stops
    as soon as every one is classified right. If it cannot, something between the data and the
    update is broken. Returns a ``SanityResult`` whose ``value`` is the accuracy reached.
    """
    samples = check_int(samples, "samples", minimum=1)
    epochs = check_int(epochs, "epochs", minimum=1)
    check_bool(verbose, "verbose")
    x, y = prepare_data(model, x, y, "check_overfit")
    x, y = x[:samples], y[:samples]
    labels = y if y.ndim == 1 else (y.argmax(axis=-1) if y.shape[-1] > 1 else y.reshape(-1))
    trained = copy.deepcopy(model)
    batch_size = batch_size or len(x)
    accuracy, ran = _accuracy(trained, x, labels), 0
    loss = float("nan")
    while accuracy < 1.0 and ran < epochs:
        step = min(10, epochs - ran)
        history = trained.fit(x, y, batch_size=batch_size, epochs=step, verbose=0, shuffle=False)
        loss = history.history["loss"][-1]
        ran += step
        accuracy = _accuracy(trained, x, labels)
    passed = accuracy == 1.0
    if passed:
        message = f"overfit {len(x)} samples to 100 % training accuracy within {ran} epochs (checked every 10): the model can learn."
    else:
        message = (f"could not overfit {len(x)} samples: training accuracy {100 * accuracy:.0f} % (loss {loss:.4g}) "
                   f"after {ran} epochs. A model that cannot learn 20 samples by heart has a bug or a bad setting: "
                   "try a learning rate 10x larger and 10x smaller; check the gradients "
                   "(tinynet.gradcheck.check_model(model, x[:4], y[:4], max_entries=50)); switch off Dropout and "
                   "regularization for this test; check that x[i] and y[i] belong together.")
    if verbose:
        print_fn(message)
    return SanityResult(passed, accuracy, 1.0, message, epochs=ran)


__all__ = ["SanityResult", "check_initial_loss", "check_overfit"]
