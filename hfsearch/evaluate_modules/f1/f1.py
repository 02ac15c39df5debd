"""F1: the harmonic mean of precision and recall, per class or averaged.

An `evaluate` metric shipped inside hfsearch and loaded by path (never downloaded):
``evaluate.load(str(hfsearch.evaluate_modules.path("f1")))``. Same inputs and output as the Hub's
``evaluate-metric/f1``, plus scikit-learn's ``zero_division``; hfsearch's benchmark mode computes its ground truth
with it.
"""

import datasets
import evaluate
import numpy as np
from sklearn.metrics import f1_score

_DESCRIPTION = """
F1 = 2 * (precision * recall) / (precision + recall), computed per class by scikit-learn and averaged as asked.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `int`): predicted class ids (hfsearch uses -1 for a model label with no target
        counterpart: a miss for every class scored).
    references (`list` of `int`): ground-truth class ids.
    labels (`list` of `int`, *optional*): the classes scored (and averaged over); default: every class seen.
    pos_label (`int`, defaults to 1): the positive class when `average="binary"`.
    average (`str`, defaults to `"binary"`): `"binary"`, `"micro"`, `"macro"`, `"weighted"`, `"samples"` or `None`
        (one score per class).
    sample_weight (`list` of `float`, *optional*): per-prediction weights.
    zero_division (`"warn"`, `0` or `1`, defaults to `"warn"`): the value of a class with no prediction and no
        reference (`"warn"` gives 0 with a warning).
Returns:
    f1 (`float` or `array` of `float`): in [0, 1]; one per class when `average=None`.
Examples:
    hfsearch's two F1 scores: binary F1 of the positive class (entity matching), where -1 predictions must not make
    the problem multiclass, and macro F1 over the classes present in the references:
    >>> f1 = evaluate.load(str(hfsearch.evaluate_modules.path("f1")))
    >>> f1.compute(predictions=[1, -1, 1, 0], references=[1, 1, 0, 0], labels=[1], average="macro")
    {'f1': 0.5}
    >>> macro = f1.compute(predictions=[0, 2, 1, -1], references=[0, 1, 1, 2], labels=[0, 1, 2], average="macro")
    >>> round(macro["f1"], 4)
    0.5556
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
class F1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
            reference_urls=["https://scikit-learn.org/stable/modules/generated/sklearn.metrics.f1_score.html"],
        )

    def _compute(
        self,
        predictions,
        references,
        labels=None,
        pos_label=1,
        average="binary",
        sample_weight=None,
        zero_division="warn",
    ):
        score = f1_score(
            references,
            predictions,
            labels=labels,
            pos_label=pos_label,
            average=average,
            sample_weight=sample_weight,
            zero_division=zero_division,
        )
        score = np.asarray(score)
        return {"f1": float(score) if score.size == 1 else score}
