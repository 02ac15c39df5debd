"""Accuracy: the fraction of predictions equal to their reference.

An `evaluate` metric shipped inside hfsearch and loaded by path (never downloaded):
``evaluate.load(str(hfsearch.evaluate_modules.path("accuracy")))``. Same inputs and output as the Hub's
``evaluate-metric/accuracy``; hfsearch's benchmark mode computes its ground truth with it.
"""

import datasets
import evaluate
from sklearn.metrics import accuracy_score

_DESCRIPTION = """
Accuracy is the proportion of correct predictions among all predictions:
Accuracy = (TP + TN) / (TP + TN + FP + FN).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `int`): predicted class ids (hfsearch uses -1 for a model label with no target
        counterpart: it never equals a reference, so it counts as wrong).
    references (`list` of `int`): ground-truth class ids.
    normalize (`bool`, defaults to `True`): `False` returns the number of correct predictions instead.
    sample_weight (`list` of `float`, *optional*): per-prediction weights.
Returns:
    accuracy (`float` or `int`): in [0, 1] (a count when `normalize=False`).
Examples:
    >>> accuracy = evaluate.load(str(hfsearch.evaluate_modules.path("accuracy")))
    >>> accuracy.compute(predictions=[0, 1, -1, 1], references=[0, 1, 1, 0])
    {'accuracy': 0.5}
"""

_CITATION = """
@article{scikit-learn,
  title={Scikit-learn: Machine Learning in {P}ython},
  author={Pedregosa, F. and Varoquaux, G. and Gramfort, A. and Michel, V. and Thirion, B. and Grisel, O. and
          Blondel, M. and Prettenhofer, P. and Weiss, R. and Dubourg, V. and Vanderplas, J. and Passos, A. and
          Cournapeau, D. and Brucher, M. and Perrot, M. and Duchesnay, E.},
  journal={Journal of Machine Learning Research},
  volume={12},
  pages={2825--2830},
  year={2011}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Accuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
            reference_urls=["https://scikit-learn.org/stable/modules/generated/sklearn.metrics.accuracy_score.html"],
        )

    def _compute(self, predictions, references, normalize=True, sample_weight=None):
        score = accuracy_score(references, predictions, normalize=normalize, sample_weight=sample_weight)
        return {"accuracy": float(score) if normalize else int(score)}
