"""`hfsearch.utils.logging`: one ``hfsearch`` logger, verbosity from the environment or `configure`, progress bars on a
terminal or when asked only, and expected third-party notices hidden around the calls that trigger them."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from hfsearch import constants
from hfsearch.utils import logging as hflog


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    """Every test leaves the library's logging and progress settings as it found them."""
    level = hflog.get_verbosity()
    third = {n: logging.getLogger(n).level for n in hflog.THIRD_PARTY}
    yield
    hflog.set_verbosity(level)
    hflog.set_progress(None)
    for n, lv in third.items():
        logging.getLogger(n).setLevel(lv)


def test_one_library_logger_with_its_own_handler() -> None:
    root = hflog.get_logger()
    assert root.name == "hfsearch" and not root.propagate
    assert len(root.handlers) == 1
    child = hflog.get_logger("hfsearch.zoo.build")
    assert child.parent is root and hflog.get_logger() is root and len(root.handlers) == 1


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("HFSEARCH_")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=60)


def test_verbosity_from_the_environment() -> None:
    code = ("from hfsearch.utils import logging as l; log = l.get_logger('hfsearch.x'); "
            "log.info('an info line'); log.warning('a warning line'); print(l.get_verbosity())")
    default = _run(code)
    assert default.stdout.strip() == str(logging.WARNING)
    assert "WARNING hfsearch.x: a warning line" in default.stderr and "an info line" not in default.stderr
    info = _run(code, HFSEARCH_VERBOSITY="info")
    assert info.stdout.strip() == str(logging.INFO) and "INFO hfsearch.x: an info line" in info.stderr
    bad = _run(code, HFSEARCH_VERBOSITY="loud")
    assert bad.stdout.strip() == str(logging.WARNING) and "Unknown HFSEARCH_VERBOSITY=loud" in bad.stderr


def test_configure_sets_hfsearch_and_third_party_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(constants, "DISABLE_PROGRESS_BARS", False)
    hflog.configure("verbose")
    assert hflog.get_verbosity() == logging.INFO and logging.getLogger("transformers").level == logging.WARNING
    hflog.configure("quiet")
    assert hflog.get_verbosity() == logging.ERROR and logging.getLogger("datasets").level == logging.ERROR
    assert not hflog.progress_enabled()  # quiet also turns the bars off
    hflog.configure("debug", progress=True)
    assert hflog.get_verbosity() == logging.DEBUG and hflog.progress_enabled()
    with pytest.raises(ValueError, match="unknown verbosity 'loud'"):
        hflog.configure("loud")


def test_progress_only_on_a_terminal_or_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = SimpleNamespace(isatty=lambda: True, write=lambda s: None, flush=lambda: None)
    monkeypatch.setattr(constants, "HFSEARCH_PROGRESS", None)
    monkeypatch.setattr(constants, "DISABLE_PROGRESS_BARS", False)
    assert not hflog.progress_enabled()  # pytest's captured stderr is no terminal
    monkeypatch.setattr(sys, "stderr", tty)
    assert hflog.progress_enabled() and not hflog.progress_enabled(requested=False)
    monkeypatch.setattr(constants, "HFSEARCH_PROGRESS", "0")
    assert not hflog.progress_enabled()
    monkeypatch.undo()
    monkeypatch.setattr(constants, "HFSEARCH_PROGRESS", "1")
    monkeypatch.setattr(constants, "DISABLE_PROGRESS_BARS", False)
    assert hflog.progress_enabled()
    monkeypatch.setattr(constants, "DISABLE_PROGRESS_BARS", True)  # an explicit "off" wins
    assert not hflog.progress_enabled()


class _Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(2, 2)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> SimpleNamespace:
        return SimpleNamespace(loss=torch.nn.functional.cross_entropy(self.lin(x), labels))


def _fit_tiny() -> None:
    from hfsearch.zoo.train import TrainConfig, fit

    rows = [{"x": torch.tensor([float(i % 2), 1.0]), "labels": torch.tensor(i % 2)} for i in range(24)]

    def collate(batch: list[dict]) -> dict[str, torch.Tensor]:
        return {k: torch.stack([b[k] for b in batch]) for k in batch[0]}

    fit(_Tiny(), rows, np.ones(len(rows)), collate, TrainConfig(epochs=2, learning_rate=0.1, batch_size=4), 0,
        desc="tiny-run")


def test_training_writes_no_step_bars_into_redirected_output(monkeypatch: pytest.MonkeyPatch, capfd) -> None:
    from huggingface_hub.utils import tqdm

    hub_tqdm = sys.modules[tqdm.__module__]  # the test session turns huggingface_hub's bars off
    monkeypatch.setattr(hub_tqdm, "HF_HUB_DISABLE_PROGRESS_BARS", None)
    monkeypatch.setattr(hub_tqdm, "progress_bar_states", {})
    monkeypatch.setattr(constants, "DISABLE_PROGRESS_BARS", False)
    monkeypatch.setattr(constants, "HFSEARCH_PROGRESS", None)
    _fit_tiny()
    assert "tiny-run" not in capfd.readouterr().err
    monkeypatch.setattr(constants, "HFSEARCH_PROGRESS", "1")  # asked for: drawn even though stderr is redirected
    _fit_tiny()
    assert "tiny-run" in capfd.readouterr().err


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_expected_warnings_are_hidden_inside_the_block_only() -> None:
    records = _Records()
    lib = logging.getLogger("transformers")
    lib.addHandler(records)
    lib.setLevel(logging.WARNING)  # earlier tests may have quietened transformers (restored by the fixture)
    source = logging.getLogger("transformers.modeling_utils")
    source_level = source.level
    source.setLevel(logging.NOTSET)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with hflog.expected_warnings("transformers"):
                source.warning("Some weights were newly initialized")
                warnings.warn_explicit("head initialised", UserWarning, "modeling_utils.py", 1,
                                       module="transformers.modeling_utils")
            source.warning("outside the block")
            warnings.warn_explicit("outside", UserWarning, "modeling_utils.py", 2, module="transformers.modeling_utils")
        assert records.messages == ["outside the block"]
        assert [str(w.message) for w in caught] == ["outside"]
        hflog.set_verbosity_debug()  # at debug verbosity nothing is hidden
        with hflog.expected_warnings("transformers"):
            source.warning("shown when debugging")
        assert records.messages[-1] == "shown when debugging"
    finally:
        lib.removeHandler(records)
        source.setLevel(source_level)


@pytest.mark.filterwarnings("ignore:Cannot enable progress bars")
def test_third_party_bars_off_inside_the_block_then_restored() -> None:
    import datasets
    from transformers.utils import logging as tf_logging

    tf_logging.enable_progress_bar()
    datasets.enable_progress_bars()
    with hflog.third_party_progress(False):
        assert not tf_logging.is_progress_bar_enabled() and not datasets.is_progress_bar_enabled()
    assert tf_logging.is_progress_bar_enabled() and datasets.is_progress_bar_enabled()
    with hflog.third_party_progress(True):
        assert tf_logging.is_progress_bar_enabled()
