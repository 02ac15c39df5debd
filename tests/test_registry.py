import pytest

from hfsearch.errors import HFSearchError, TaskError
from hfsearch.registry import Registry
from hfsearch.tasks import get_task


def test_registry_did_you_mean_and_wildcards():
    r: Registry[int] = Registry("thing")
    r.add("adaptivity", 1)
    r.add("jsd", 2)
    r.add("kl_div", 3, aliases=("kl",))
    assert r.get("kl") == 3
    assert r.names("*d*") == ["adaptivity", "jsd", "kl_div"]
    assert r.names("k*") == ["kl_div"]
    with pytest.raises(HFSearchError, match="Did you mean 'adaptivity'"):
        r.get("adaptivty")
    with pytest.raises(ValueError):
        r.add("jsd", 4)


def test_unknown_task_lists_supported():
    with pytest.raises(TaskError, match="Unknown task 'text-clasification'.*Did you mean 'text-classification'"):
        get_task("text-clasification")
    with pytest.raises(TaskError) as info:  # nothing close: every task, named once
        get_task("nonsense")
    message = str(info.value)
    assert message.startswith("Unknown task 'nonsense'.")
    for task in ("text-classification", "token-classification", "image-classification"):
        assert message.count(task) == 1


def test_scorer_spec_parses_space_and_rejects_bad_params():
    from hfsearch.errors import ScorerError
    from hfsearch.scores import parse_scorers

    specs = parse_scorers("adaptivity,mmd:reference,confidence", {"adaptivity": {"tau": 0.6}})
    assert [s.column for s in specs] == ["adaptivity", "mmd", "confidence"]
    assert [s.space for s in specs] == ["raw", "reference", None]
    assert parse_scorers("mmd:model")[0].column == "mmd:model"
    with pytest.raises(ScorerError, match="no parameter 'taux'"):
        parse_scorers("adaptivity", {"adaptivity": {"taux": 1}})
    with pytest.raises(ScorerError, match="does not run in a feature space"):
        parse_scorers("confidence:model")
    with pytest.raises(ScorerError, match="runs in"):
        parse_scorers("adaptivity:pixels")
