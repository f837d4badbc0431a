"""Confusion matrix, classification report, ROC curves and AUC against hand-computed cases."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from tinynet import metrics

# 7 samples, 3 classes.  true:  0 0 1 1 2 2 2
#                        pred:  0 1 1 1 2 0 2
Y_TRUE = [0, 0, 1, 1, 2, 2, 2]
Y_PRED = [0, 1, 1, 1, 2, 0, 2]


def test_confusion_matrix_by_hand():
    expected = [[1, 1, 0],   # the two 0s: one right, one taken for a 1
                [0, 2, 0],   # both 1s right
                [1, 0, 2]]   # one 2 taken for a 0
    assert metrics.confusion_matrix(Y_TRUE, Y_PRED).tolist() == expected
    assert metrics.confusion_matrix(Y_TRUE, Y_PRED, num_classes=4)[:3, :3].tolist() == expected
    assert metrics.confusion_matrix(Y_TRUE, Y_PRED, num_classes=4)[3].tolist() == [0, 0, 0, 0]


def test_confusion_matrix_accepts_one_hot_and_probabilities():
    one_hot = np.eye(3)[Y_TRUE]
    probs = np.eye(3)[Y_PRED] * 0.8 + 0.1
    assert np.array_equal(metrics.confusion_matrix(one_hot, probs), metrics.confusion_matrix(Y_TRUE, Y_PRED))


def test_confusion_matrix_bad_input():
    with pytest.raises(ValueError, match="same length. Received: 2 and 3"):
        metrics.confusion_matrix([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="does not fit num_classes=2"):
        metrics.confusion_matrix([0, 2], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match="expected non-negative integer class labels"):
        metrics.confusion_matrix([0.5, 1], [0, 1])


def test_precision_recall_f1_by_hand():
    precision, recall, f1, support = metrics.precision_recall_fscore_support(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(precision, [1 / 2, 2 / 3, 2 / 2])   # column sums 2, 3, 2
    np.testing.assert_allclose(recall, [1 / 2, 2 / 2, 2 / 3])      # row sums 2, 2, 3
    np.testing.assert_allclose(f1, [0.5, 0.8, 0.8])                # 2pr / (p + r)
    assert support.tolist() == [2, 2, 3]


def test_class_never_predicted_counts_as_zero():
    precision, recall, f1, _ = metrics.precision_recall_fscore_support([0, 1, 1], [1, 1, 1])
    assert precision.tolist() == [0.0, 2 / 3] and recall.tolist() == [0.0, 1.0] and f1[0] == 0.0


def test_classification_report_text():
    expected = (
        "             precision    recall  f1-score   support\n"
        "\n"
        "        cat       0.50      0.50      0.50         2\n"
        "        dog       0.67      1.00      0.80         2\n"
        "       bird       1.00      0.67      0.80         3\n"
        "\n"
        "  micro avg       0.71      0.71      0.71         7\n"
        "  macro avg       0.72      0.72      0.70         7\n"
        "avg / total       0.76      0.71      0.71         7\n")
    assert metrics.classification_report(Y_TRUE, Y_PRED, target_names=["cat", "dog", "bird"]) == expected


def test_classification_report_dict_and_digits():
    report = metrics.classification_report(Y_TRUE, Y_PRED, output_dict=True)
    assert report["1"] == {"precision": pytest.approx(2 / 3), "recall": 1.0, "f1-score": pytest.approx(0.8),
                           "support": 2}
    assert report["micro avg"]["f1-score"] == pytest.approx(5 / 7)  # = accuracy
    assert report["macro avg"]["precision"] == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    assert report["avg / total"]["recall"] == pytest.approx((2 * 0.5 + 2 * 1 + 3 * 2 / 3) / 7)
    text = metrics.classification_report(Y_TRUE, Y_PRED, digits=4)
    assert "          1     0.6667    1.0000    0.8000         2" in text
    with pytest.raises(ValueError, match="expected 3 names"):
        metrics.classification_report(Y_TRUE, Y_PRED, target_names=["a", "b"])


def test_roc_curve_scikit_learn_example():
    # The example in scikit-learn's roc_curve documentation (with drop_intermediate=False).
    fpr, tpr, thresholds = metrics.roc_curve([1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8], pos_label=2)
    assert fpr.tolist() == [0, 0, 0.5, 0.5, 1] and tpr.tolist() == [0, 0.5, 0.5, 1, 1]
    assert thresholds.tolist() == [np.inf, 0.8, 0.4, 0.35, 0.1]
    assert metrics.auc(fpr, tpr) == 0.75


def test_roc_curve_tied_scores_move_diagonally():
    # Scores 0.9(+) 0.5(-) 0.5(+) 0.2(-): the tie at 0.5 lets in one negative and one positive at once.
    fpr, tpr, thresholds = metrics.roc_curve([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])
    assert fpr.tolist() == [0, 0, 0.5, 1] and tpr.tolist() == [0, 0.5, 1, 1]
    assert metrics.auc(fpr, tpr) == 0.875  # pairs ranked right: 1 + 1 + 0.5 (tie) + 1 out of 4


def test_roc_curve_needs_both_classes():
    with pytest.raises(ValueError, match="Received: 0 positives and 3 negatives"):
        metrics.roc_curve([0, 0, 0], [0.1, 0.2, 0.3])


def test_auc_trapezoids_and_direction():
    assert metrics.auc([0, 1, 2], [0, 1, 0]) == 1.0
    assert metrics.auc([2, 1, 0], [0, 1, 1]) == 1.5
    with pytest.raises(ValueError, match="neither increasing nor decreasing"):
        metrics.auc([0, 2, 1], [0, 1, 1])


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5)), min_size=2, max_size=40))
def test_auc_equals_the_probability_a_positive_outranks_a_negative(samples):
    labels = np.array([s[0] for s in samples], dtype=int)
    scores = np.array([s[1] for s in samples], dtype=float)  # small integers: many ties
    if labels.min() == labels.max():
        return
    pos, neg = scores[labels == 1], scores[labels == 0]
    mann_whitney = np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
    fpr, tpr, _ = metrics.roc_curve(labels, scores)
    assert metrics.auc(fpr, tpr) == pytest.approx(mann_whitney)


def test_roc_curves_one_vs_rest_with_averages():
    y = np.array([0, 1, 2, 0, 1, 2])
    perfect = np.eye(3)[y] * 0.7 + 0.1
    fpr, tpr, roc_auc = metrics.roc_curves(y, perfect)
    assert roc_auc == {0: 1.0, 1: 1.0, 2: 1.0, "micro": 1.0, "macro": 1.0}

    probs = np.array([[0.6, 0.3, 0.1], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6],
                      [0.3, 0.4, 0.3], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    fpr, tpr, roc_auc = metrics.roc_curves(np.eye(3)[y], probs)
    # Class 0: positives score 0.6, 0.3; negatives 0.5, 0.2, 0.1, 0.3 -> pairs won 4 + (1 + 0.5 + 1) of 8.
    assert roc_auc[0] == pytest.approx(6.5 / 8)
    flat_fpr, flat_tpr, _ = metrics.roc_curve(np.eye(3)[y].ravel(), probs.ravel())
    assert roc_auc["micro"] == pytest.approx(metrics.auc(flat_fpr, flat_tpr))
    assert fpr["macro"][0] == 0 and fpr["macro"][-1] == 1 and tpr["macro"][-1] == 1
    assert min(roc_auc[c] for c in range(3)) <= roc_auc["macro"] <= max(roc_auc[c] for c in range(3))
