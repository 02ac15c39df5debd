"""Adaptivity of a source dataset to a target dataset (Zhou et al., SSDBM 2022), and k-NN coverage.

An `evaluate` measurement shipped inside hfsearch and loaded by path (never downloaded):
``evaluate.load(str(hfsearch.evaluate_modules.path("adaptivity")), module_type="measurement")``. It computes the
values of hfsearch's ``adaptivity``, ``adaptivity_norm`` and ``knn_coverage`` scorers in the raw space
(`hfsearch.scores.adaptivity`): texts are histogrammed over the frequent words both samples share, numeric rows
over their values, as in the paper.

The two samples may differ in size, which the row-aligned buffer of `evaluate` (``add`` / ``add_batch``) cannot
hold, so `compute` hands them straight to ``_compute``; ``add`` and ``add_batch`` are not supported.
"""

import datasets
import evaluate
import numpy as np

from hfsearch.scores.adaptivity import adaptivity_counts, knn_coverage_value
from hfsearch.scores.base import RawData, ScoreUnavailable
from hfsearch.scores.histograms import feature_matrices

_DESCRIPTION = """
Adaptivity (Zhou, Jain, Wang, Das, Yang, Zou, "Benchmark of DNN Model Search at Deployment Time", SSDBM 2022) says how
well a model trained on a source dataset S can serve a target dataset T, from the data alone. Both samples are
shuffled with a seed and cut into partitions; every partition becomes a histogram (texts: frequencies of the most
common non-stop-words shared by S and T; numbers: a 100-bin histogram of its min-max normalised values); then

    adaptivity(S -> T) = |{(i, j) : JSD(P_i^S, P_j^T) < tau}| / k_T
    adaptivity_norm(S -> T) = |{(i, j) : JSD(P_i^S, P_j^T) < tau}| / (k_S * k_T)

with JSD the Jensen-Shannon divergence and k_S, k_T the numbers of partitions. tau="auto" takes the 95% quantile of
the JSDs between the target's own partitions. knn_coverage is the share of target rows whose k-th-nearest-target-row
ball holds a source row (Naeem et al., ICML 2020), in the same raw space. Higher is better for all three.
"""

_KWARGS_DESCRIPTION = """
Args:
    source (`list` of `str`, or `list` of `list` of `float`): the source sample (e.g. the model's training data).
    target (`list` of `str`, or `list` of `list` of `float`): the target sample (the data to serve); same kind as
        `source`, any size.
    partition_size (`int` or `"auto"`, defaults to `"auto"`): rows per partition; "auto" gives the smaller side 16
        partitions (between 8 and 500 rows each).
    tau (`float` or `"auto"`, defaults to `"auto"`): JSD threshold (the paper: 0.002 for images, 0.6-0.7 for text).
    tau_quantile (`float`, defaults to 0.95): the quantile used by tau="auto".
    bins (`int`, defaults to 100), top_words (`int`, defaults to 300), seed (`int`, defaults to 0).
    method (`"exact"` or `"lsh"`, defaults to `"exact"`): count close pairs exactly, or with the paper's p-stable LSH
        index (r, K, L; defaults 1.3, 11, 46).
    k (`int`, defaults to 5): neighbourhood size of knn_coverage.
Returns:
    adaptivity (`float`), adaptivity_norm (`float`), knn_coverage (`float`, or `None` with `knn_coverage_unavailable`
    saying why), tau (`float`, the threshold used), close_pairs, source_partitions, target_partitions (`int`).
Examples:
    >>> adaptivity = evaluate.load(str(hfsearch.evaluate_modules.path("adaptivity")), module_type="measurement")
    >>> result = adaptivity.compute(source=source_texts, target=target_texts)
    >>> sorted(result)
    ['adaptivity', 'adaptivity_norm', 'close_pairs', 'knn_coverage', 'source_partitions', 'target_partitions', 'tau']
"""

_CITATION = """
@inproceedings{zhou2022benchmark,
  title={Benchmark of DNN Model Search at Deployment Time},
  author={Zhou, Lixi and Jain, Arindam and Wang, Zijie and Das, Amitabh and Yang, Yingzhen and Zou, Jia},
  booktitle={Proceedings of the 34th International Conference on Scientific and Statistical Database Management
    (SSDBM)},
  year={2022},
  doi={10.1145/3538712.3538725}
}
@inproceedings{naeem2020reliable,
  title={Reliable Fidelity and Diversity Metrics for Generative Models},
  author={Naeem, Muhammad Ferjad and Oh, Seong Joon and Uh, Youngjung and Choi, Yunjey and Yoo, Jaejun},
  booktitle={International Conference on Machine Learning (ICML)},
  year={2020}
}
"""

_ADAPTIVITY_PARAMS = ("partition_size", "tau", "tau_quantile", "bins", "top_words", "seed", "method", "r", "K", "L")


def _raw(rows, name):
    """The raw view (`RawData`) of a list of texts or of numeric rows."""
    rows = list(rows)
    if not rows:
        raise ValueError(f"`{name}` is empty")
    if all(isinstance(r, str) for r in rows):
        return RawData(kind="text", texts=rows)
    try:
        values = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a list of strings or of equally long numeric rows") from None
    return RawData(kind="numeric", values=values.reshape(len(values), -1))


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Adaptivity(evaluate.Measurement):
    def _info(self):
        return evaluate.MeasurementInfo(
            module_type="measurement",
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features({"source": datasets.Value("string"), "target": datasets.Value("string")}),
                datasets.Features(
                    {
                        "source": datasets.Sequence(datasets.Value("float64")),
                        "target": datasets.Sequence(datasets.Value("float64")),
                    }
                ),
            ],
            reference_urls=[
                "https://arxiv.org/abs/2206.00188",
                "https://github.com/asu-cactus/Discovery_of_DL_Model_Version",
            ],
        )

    def compute(self, *, source=None, target=None, **kwargs):
        """Adaptivity of `source` to `target` (see the module's inputs description); samples of any sizes."""
        if source is None or target is None:
            raise ValueError("adaptivity needs both `source` and `target`")
        return self._compute(source=source, target=target, **kwargs)

    def add(self, **kwargs):
        """Not supported: the two samples differ in size; pass both to `compute`."""
        raise NotImplementedError("adaptivity compares two samples of different sizes: pass both to compute()")

    def add_batch(self, **kwargs):
        """Not supported: the two samples differ in size; pass both to `compute`."""
        raise NotImplementedError("adaptivity compares two samples of different sizes: pass both to compute()")

    def _compute(self, source, target, k=5, **params):
        unknown = sorted(set(params) - set(_ADAPTIVITY_PARAMS))
        if unknown:
            raise ValueError(f"unknown parameter {unknown[0]!r}; parameters: {', '.join((*_ADAPTIVITY_PARAMS, 'k'))}")
        s, t = _raw(source, "source"), _raw(target, "target")
        if s.kind != t.kind:
            raise ValueError("`source` and `target` must be of the same kind (both texts or both numeric rows)")
        try:
            count, k_source, k_target, tau = adaptivity_counts(s, t, **params)
        except ScoreUnavailable as exc:
            raise ValueError(f"adaptivity cannot be computed: {exc}") from None
        out = {
            "adaptivity": count / k_target,
            "adaptivity_norm": count / (k_source * k_target),
            "tau": tau,
            "close_pairs": count,
            "source_partitions": k_source,
            "target_partitions": k_target,
        }
        try:
            xs, xt = feature_matrices(s, t, top_words=int(params.get("top_words", 300)))
            out["knn_coverage"] = knn_coverage_value(xs, xt, int(k))
        except ScoreUnavailable as exc:
            out["knn_coverage"] = None
            out["knn_coverage_unavailable"] = str(exc)
        return out
