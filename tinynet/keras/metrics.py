"""``tinynet.metrics``, Keras's ``keras.metrics``: the metrics ``fit`` reports (``tinynet/core/metrics/``),
and, as scikit-learn names them, the ones for a finished model (``tinynet/tools/evaluation.py``)."""
from ..core.metrics import *  # noqa: F401,F403
from ..core.metrics import get, get_metric  # noqa: F401
from ..tools.evaluation import (auc, classification_report, confusion_matrix,  # noqa: F401
                                precision_recall_fscore_support, roc_curve, roc_curves)
