"""Where each public module name of tinynet lives: ``from tinynet.layers import Dense`` as Keras scripts write it.

The code lives in rings (``tinynet/core``, ``io``, ``tools``, ``keras``); the names Keras users import
are the ones Keras has (``tinynet.layers``, ``tinynet.datasets.mnist``, ``tinynet.keras.backend``).
``PUBLIC`` maps each such name to the module that holds it, and ``install`` teaches Python's import
system the mapping (a finder on ``sys.meta_path``): importing a public name gives the real module
itself, loaded on first use, never a copy.
"""
import importlib
import importlib.abc
import importlib.util
import sys

# public name -> the module it is (names under it map the same way: tinynet.datasets.mnist -> ...).
PUBLIC = {
    "layers": "tinynet.keras.layers", "models": "tinynet.keras.models", "callbacks": "tinynet.keras.callbacks",
    "metrics": "tinynet.keras.metrics", "utils": "tinynet.keras.utils", "saving": "tinynet.keras.saving",
    "backend": "tinynet.keras.backend", "np_utils": "tinynet.keras.np_utils", "random": "tinynet.keras.random",
    "losses": "tinynet.core.losses", "optimizers": "tinynet.core.optimizers",
    "initializers": "tinynet.core.initializers", "regularizers": "tinynet.core.regularizers",
    "constraints": "tinynet.core.constraints", "ops": "tinynet.keras.ops", "datasets": "tinynet.io.datasets",
    "gradcheck": "tinynet.tools.gradcheck", "plot": "tinynet.tools.plot", "scalar": "tinynet.tools.scalar",
    "sanity": "tinynet.tools.sanity", "data": "tinynet.keras.data", "activations": "tinynet.keras.activations",
    "nn": "tinynet.keras.nn", "config": "tinynet.keras.tf_config", "preprocessing": "tinynet.keras.preprocessing",
}


def real_name(fullname):
    """The module a public name stands for (``tinynet.datasets.mnist`` -> ``tinynet.io.datasets.mnist``), or None."""
    for prefix in ("tinynet.keras.", "tinynet."):
        if fullname.startswith(prefix):
            head, _, rest = fullname[len(prefix):].partition(".")
            real = PUBLIC[head] + (f".{rest}" if rest else "") if head in PUBLIC else None
            if real is not None and real != fullname:  # (tinynet.keras.data.x is itself: no alias to follow)
                return real
    return None


class PublicNames(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds a public name and loads it as the real module (the same object in ``sys.modules``)."""

    def find_spec(self, fullname, path=None, target=None):
        real = real_name(fullname)
        if real is None or importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        module = importlib.import_module(real_name(spec.name))
        self.real_spec = module.__spec__  # the import system writes the alias's spec on it: put it back
        return module

    def exec_module(self, module):
        module.__spec__ = self.real_spec


def install():
    if not any(isinstance(finder, PublicNames) for finder in sys.meta_path):
        sys.meta_path.insert(0, PublicNames())  # before the path finder, which would load a second copy
