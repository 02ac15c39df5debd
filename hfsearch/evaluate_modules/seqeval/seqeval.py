"""Entity-level precision, recall and F1 of tag sequences (the CoNLL-2000 / seqeval measure).

An `evaluate` metric shipped inside hfsearch and loaded by path (never downloaded):
``evaluate.load(str(hfsearch.evaluate_modules.path("seqeval")))``. Same inputs and output layout as the Hub's
``evaluate-metric/seqeval`` (``overall_*`` plus one entry per entity type), computed by hfsearch's own chunker
(`hfsearch.tasks.entities`, seqeval's default non-strict mode) so that it needs no extra package. On the usual tag
sets its numbers equal seqeval's; beyond seqeval it reads BILOU and prefix-less (IO) tags and compares entity types
through their synonym groups (``PER`` = ``person``, ``MISC`` = ``OTHER``), as hfsearch's label alignment does.
"""

import datasets
import evaluate

from hfsearch.candidates.labels import entity_type_key, split_tag
from hfsearch.tasks.entities import get_entities

_DESCRIPTION = """
Entity-level scores of sequence labelling (named-entity recognition): a predicted entity is correct when a reference
entity has the same type, start and end. Micro-averaged over all entities of all sentences, as conlleval and seqeval
report them; with no entity at all, precision, recall and F1 are 0.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `str`): predicted tags, one list per sentence (`"B-PER"`, `"I-LOC"`, `"O"`…).
    references (`list` of `list` of `str`): reference tags, aligned word for word with `predictions`.
Returns:
    overall_precision, overall_recall, overall_f1 (`float`): micro-averaged over all entities.
    overall_accuracy (`float`): fraction of words whose tag agrees (same prefix, and same entity type up to synonyms).
    <TYPE> (`dict`): `precision`, `recall`, `f1` and `number` (reference entities) of every entity type seen.
Examples:
    >>> seqeval = evaluate.load(str(hfsearch.evaluate_modules.path("seqeval")))
    >>> predictions, references = [["B-PER", "I-PER", "O", "B-ORG"]], [["B-PER", "I-PER", "O", "B-LOC"]]
    >>> seqeval.compute(predictions=predictions, references=references)["overall_f1"]
    0.5
"""

_CITATION = """
@inproceedings{tjong-kim-sang-buchholz-2000-introduction,
  title = "Introduction to the {C}o{NLL}-2000 Shared Task Chunking",
  author = "Tjong Kim Sang, Erik F. and Buchholz, Sabine",
  booktitle = "Fourth Conference on Computational Natural Language Learning and
    the Second Learning Language in Logic Workshop",
  year = "2000",
  url = "https://aclanthology.org/W00-0726",
  pages = "127--132",
}
@misc{seqeval,
  title={{seqeval}: A Python framework for sequence labeling evaluation},
  url={https://github.com/chakki-works/seqeval},
  author={Hiroki Nakayama},
  year={2018},
}
"""


def _ratio(a, b):
    return a / b if b else 0.0


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Seqeval(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("string")),
                    "references": datasets.Sequence(datasets.Value("string")),
                }
            ),
            reference_urls=["https://github.com/chakki-works/seqeval", "https://aclanthology.org/W00-0726"],
        )

    def _compute(self, predictions, references):
        names = {}  # type key -> the first spelling seen, references first
        for sentence in [*references, *predictions]:
            for tag in sentence:
                prefix, etype = split_tag(tag)
                if prefix != "O":
                    names.setdefault(entity_type_key(etype), etype)
        counts = {}  # type key -> [correct, predicted, reference]
        agree = words = 0
        for k, (gold, pred) in enumerate(zip(references, predictions, strict=True)):
            if len(gold) != len(pred):
                raise ValueError(f"sentence {k}: {len(pred)} predicted tags for {len(gold)} reference tags")
            gold_entities, pred_entities = set(get_entities(gold)), set(get_entities(pred))
            for entities, slot in ((gold_entities & pred_entities, 0), (pred_entities, 1), (gold_entities, 2)):
                for key, _, _ in entities:
                    counts.setdefault(key, [0, 0, 0])[slot] += 1
            for g, p in zip(gold, pred):
                (pg, tg), (pp, tp) = split_tag(g), split_tag(p)
                agree += pg == pp and (pg == "O" or entity_type_key(tg) == entity_type_key(tp))
                words += 1
        out = {}
        for key in sorted(counts, key=lambda k: names.get(k, k)):
            correct, n_pred, n_gold = counts[key]
            out[names.get(key, key)] = {
                "precision": _ratio(correct, n_pred),
                "recall": _ratio(correct, n_gold),
                "f1": _ratio(2 * correct, n_pred + n_gold),
                "number": n_gold,
            }
        correct, n_pred, n_gold = (sum(c[i] for c in counts.values()) for i in range(3))
        out["overall_precision"] = _ratio(correct, n_pred)
        out["overall_recall"] = _ratio(correct, n_gold)
        out["overall_f1"] = _ratio(2 * correct, n_pred + n_gold)
        out["overall_accuracy"] = _ratio(agree, words)
        return out
