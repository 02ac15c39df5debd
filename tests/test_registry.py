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
