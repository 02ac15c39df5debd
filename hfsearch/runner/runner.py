"""Batched inference of one candidate at a time, with `accelerate` for device placement and mixed precision."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..candidates.candidate import Candidate
from ..data.sample import Sample
from ..errors import CandidateError, HFSearchError, one_line
from ..tasks.base import Encoded, TaskAdapter
from ..utils.logging import get_logger
from .cache import OutputCache, Outputs, cache_key
from .prefix import Prefix, concat, head, rows_of
from .weights import WEIGHT_PATTERNS, CorruptWeights, check_weights

logger = get_logger(__name__)

#: Files fetched from a repo: configs, tokenizer/processor files and safetensors weights (never pickles by default).
ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "tokenizer*", "*.tiktoken"]
#: Bumped when the way outputs are computed changes (invalidates the cache). 2: XLNet-like heads read a real last
#: token, GPT-2/Llama classifiers get a pad id, unseen words are tagged O, 16-bit images are scaled.
RUNNER_VERSION = "2"
#: Share of the free memory (of the device the models run on) that models held between racing rounds may take.
HOLD_SHARE = 0.25
#: At most this many bytes of held models on the CPU, however much memory is free.
HOLD_CAP = 8 * 2**30
#: Distinct tokenizers / processors kept for reuse (`Runner.preprocessor`): a pool holds few families.
PREPROCESSORS_KEPT = 8


@dataclass
class RunStats:
    """What the runner did (tests and benchmarks read it)."""

    models_loaded: int = 0
    cache_hits: int = 0
    forward_seconds: float = 0.0
    load_seconds: float = 0.0
    oom_backoffs: list[str] = field(default_factory=list)
    #: Rows run through a model (a row of the target and a held-out row count the same).
    rows_computed: int = 0
    #: Bytes of weight files read from disk (every load counts, so a candidate loaded twice counts twice).
    bytes_read: int = 0
    #: Runs that found their model still loaded (held between racing rounds: `Runner.hold`), not loaded again.
    models_reused: int = 0
    #: Candidates whose tokenizer or processor files were identical to an earlier one's: its object was reused.
    preprocessors_reused: int = 0


def hold_budget(device: Any) -> int:
    """Bytes of models worth keeping loaded between racing rounds on `device`: `HOLD_SHARE` of its free memory
    (capped at `HOLD_CAP` on the CPU); 0 where the free memory cannot be read."""
    try:
        if getattr(device, "type", str(device)) == "cuda":
            free, _ = torch.cuda.mem_get_info(device)
            return int(free * HOLD_SHARE)
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError, RuntimeError):
        return 0
    return int(min(free * HOLD_SHARE, HOLD_CAP))


def make_accelerator(device: str | None = None, mixed_precision: str = "auto") -> Any:
    """An `accelerate.Accelerator`: GPU when present (bf16 autocast), else CPU.

    Args:
        device (`str`, *optional*): ``"cpu"`` forces the CPU, ``"cuda"`` requires a GPU; ``None``/``"auto"``: a GPU when
            present.
        mixed_precision (`str`): ``"auto"`` (bf16 on a GPU that supports it, else none), ``"no"``, ``"bf16"``,
            ``"fp16"``.
    """
    from accelerate import Accelerator

    from ..errors import HFSearchError

    if device == "cuda" and not torch.cuda.is_available():
        raise HFSearchError("--device cuda: no CUDA GPU is available here (use --device auto or cpu).")
    cpu = device == "cpu" or not torch.cuda.is_available()
    if mixed_precision == "auto":
        mixed_precision = "bf16" if (not cpu and torch.cuda.is_bf16_supported()) else "no"
    return Accelerator(cpu=cpu, mixed_precision=mixed_precision)


def weights_bytes(path: str, allow_pickle: bool = False) -> int:
    """Bytes of the weight files a load reads in the folder `path` (safetensors; pickles only when allowed)."""
    patterns = WEIGHT_PATTERNS if allow_pickle else ("*.safetensors",)
    return sum(f.stat().st_size for pattern in patterns for f in Path(path).glob(pattern) if f.is_file())


class Runner:
    """Runs candidates over samples; one model in memory at a time (racing may keep some between its rounds:
    `hold`), outputs cached on disk.

    Args:
        adapter (`TaskAdapter`): the task.
        cache (`OutputCache`): output cache.
        batch_size (`int`): rows per forward pass (halved and retried on out-of-memory).
        max_length (`int`): truncation length for text.
        allow_pickle (`bool`): allow ``.bin`` (pickle) weights; off by default.
        endpoint, token: Hub access for downloads (token never logged).
        accelerator (`accelerate.Accelerator`, *optional*): device and precision (default `make_accelerator`).
    """

    def __init__(
        self,
        adapter: TaskAdapter,
        cache: OutputCache,
        *,
        batch_size: int = 32,
        max_length: int = 256,
        allow_pickle: bool = False,
        endpoint: str | None = None,
        token: str | bool | None = None,
        accelerator: Any = None,
    ) -> None:
        self.adapter = adapter
        self.cache = cache
        self.batch_size = batch_size
        self.max_length = max_length
        self.allow_pickle = allow_pickle
        self.endpoint = endpoint
        self.token = token
        self._accelerator = accelerator
        self.stats = RunStats()
        #: Bytes of weights each candidate's folder held when it was loaded (what a download budget is charged).
        self.weights_read: dict[str, int] = {}
        self._encodings: dict[tuple[str, str], Encoded] = {}
        self._preprocessors: dict[str, Any] = {}
        self._preprocessor_keys: dict[str, str] = {}
        self._downloads: dict[str, Future[str]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._hold_bytes = 0
        self._held: dict[str, tuple[Any, Any, str, int]] = {}

    # ---- models kept loaded between racing rounds -------------------------------------------------------------
    def hold(self, nbytes: int) -> None:
        """Keep models loaded after they run, up to `nbytes` of weights in all, first come first kept (a racing
        round runs the candidates in the same order as the previous one, so the first ones are the ones kept).
        A held model runs again without being loaded again (`RunStats.models_reused`); `release` frees them."""
        self._hold_bytes = max(0, int(nbytes))

    def release(self, keep: Iterable[str] = ()) -> None:
        """Free the held models, except those of the repo ids in `keep` (and stop holding new ones unless some are
        kept)."""
        keep = set(keep)
        for repo in [r for r in self._held if r not in keep]:
            del self._held[repo]
        if not keep:
            self._hold_bytes = 0
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    @property
    def held(self) -> list[str]:
        """Repo ids of the models held loaded (`hold`)."""
        return list(self._held)

    @property
    def accelerator(self) -> Any:
        if self._accelerator is None:
            self._accelerator = make_accelerator()
        return self._accelerator

    # ---- files -------------------------------------------------------------------------------------------------
    def prefetch(self, cand: Candidate, samples: dict[str, Sample]) -> None:
        """Start downloading `cand` in the background (while another candidate runs), unless nothing is needed.

        Only files are fetched ahead, never a second model into memory: peak memory stays one model.
        """
        if cand.path or cand.repo_id in self._downloads:
            return
        if all(self.cache.contains(self.key(cand, s)) for s in samples.values()):
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hfsearch-prefetch")
        self._downloads[cand.repo_id] = self._pool.submit(self._download, cand)

    def local_path(self, cand: Candidate) -> str:
        """Download (or find in the HF cache) the files the candidate needs; returns the local folder."""
        if cand.path:
            return cand.path
        future = self._downloads.pop(cand.repo_id, None)
        if future is not None:
            return future.result()
        return self._download(cand)

    def _download(self, cand: Candidate) -> str:
        from huggingface_hub import snapshot_download

        patterns = ALLOW_PATTERNS + (["*.bin"] if self.allow_pickle else [])
        try:
            return snapshot_download(
                cand.repo_id, revision=cand.sha, allow_patterns=patterns, endpoint=self.endpoint, token=self.token
            )
        except Exception as exc:  # noqa: BLE001 - isolated per candidate
            raise CandidateError(f"download failed: {one_line(exc)}", stage="download") from None

    # ---- outputs -----------------------------------------------------------------------------------------------
    def key(self, cand: Candidate, sample: Sample) -> str:
        return cache_key(
            repo=cand.repo_id,
            sha=cand.sha,
            task=self.adapter.name,
            data=sample.fingerprint,
            columns=sample.columns,
            max_length=self.max_length,
            # outputs computed in bf16 on a GPU are not those of an fp32 run: neither may answer for the other
            precision=str(getattr(self.accelerator, "mixed_precision", "no")),
            version=RUNNER_VERSION,
        )

    def close(self) -> None:
        """Stop the prefetch thread (held models stay: racing calls this after each round and `release` at its end)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def run(
        self, cand: Candidate, samples: dict[str, Sample], *, check: Callable[[], None] | None = None
    ) -> dict[str, Outputs]:
        """Outputs of `cand` on every sample (``{"target": …, "source": …}``), from cache where possible.

        Args:
            cand (`Candidate`): the candidate.
            samples (`dict[str, Sample]`): the samples to run it on, by role.
            check (`Callable[[], None]`, *optional*): called between batches; raises to stop (cooperative
                cancellation, see `hfsearch.pipeline.events.Hooks.check`).

        Raises:
            `CandidateError`: download, load or inference failed (the caller records it and goes on).
            `SearchCancelled`: `check` asked to stop (outputs of finished samples are cached already).
        """
        results: dict[str, Outputs] = {}
        todo: dict[str, Sample] = {}
        for name, sample in samples.items():
            hit = self.cache.get(self.key(cand, sample))
            if hit is not None:
                results[name] = hit
                self.stats.cache_hits += 1
            else:
                todo[name] = sample
        if not todo:
            return results
        with self.loaded(cand) as (model, preprocessor, path):
            for name, sample in todo.items():
                out = self.compute(model, preprocessor, path, sample, check=check)
                self.cache.put(self.key(cand, sample), out)
                results[name] = out
        return results

    def run_prefix(
        self,
        cand: Candidate,
        prefixes: dict[str, Prefix],
        *,
        have: dict[str, Outputs] | None = None,
        check: Callable[[], None] | None = None,
    ) -> dict[str, Outputs]:
        """Outputs of `cand` on the first rows of seeded orders of samples (early elimination's growing slices).

        Rows already computed are reused, never run again: from `have` (the outputs of a shorter prefix of the same
        order, kept in memory between rounds), from the cache's prefix entry of the same order, or from the sample's
        ordinary entry. Only the missing rows are run; the longer prefix is cached (see `hfsearch.runner.prefix`).

        Args:
            cand (`Candidate`): the candidate.
            prefixes (`dict[str, Prefix]`): the slices to return, by role (``"target"``, ``"heldout"``).
            have (`dict[str, Outputs]`, *optional*): outputs of shorter prefixes of the same orders, by role.
            check (`Callable[[], None]`, *optional*): called between batches (cooperative cancellation).

        Returns:
            `dict[str, Outputs]`: per role, the outputs of the slice's rows in the order's order; a complete prefix
            (the whole sample) comes back in the sample's own order, as `run` returns it.

        Raises:
            `CandidateError`: download, load or inference failed.
        """
        have = have or {}
        results: dict[str, Outputs] = {}
        todo: dict[str, tuple[Prefix, Outputs | None]] = {}
        for name, p in prefixes.items():
            got = have.get(name)
            got = got if rows_of(got) > 0 else None
            if p.complete and rows_of(got) >= len(p.sample):  # a whole-sample result: already in sample order
                assert got is not None
                results[name] = got
                continue
            if rows_of(got) < p.rows:
                full = self.cache.get(self.key(cand, p.sample))
                if full is not None:
                    self.stats.cache_hits += 1
                    results[name] = full if p.complete else p.take(full)
                    continue
                cached = self.cache.get(self.prefix_key(cand, p))
                if cached is not None and rows_of(cached) > rows_of(got):
                    self.stats.cache_hits += 1
                    got = cached
            if rows_of(got) >= p.rows:
                assert got is not None
                results[name] = self._finish(cand, p, head(got, p.rows), store=False)
            else:
                todo[name] = (p, got)
        if not todo:
            return results
        with self.loaded(cand) as (model, preprocessor, path):
            for name, (p, got) in todo.items():
                if p.complete and got is None:  # the whole sample at once: in its own order, as `run` does
                    results[name] = out = self.compute(model, preprocessor, path, p.sample, check=check)
                    self.cache.put(self.key(cand, p.sample), out)
                    continue
                new = self.compute(model, preprocessor, path, p.part(rows_of(got)), check=check)
                results[name] = self._finish(cand, p, concat(got, new), store=True)
        return results

    def _finish(self, cand: Candidate, p: Prefix, out: Outputs, *, store: bool) -> Outputs:
        """Cache a prefix just extended (a complete one as the sample's ordinary entry, in sample order, which
        answers every prefix) and return it as `run_prefix` does."""
        if not p.complete:
            if store:
                self.cache.put(self.prefix_key(cand, p), out)
            return out
        full = p.to_sample_order(out)
        if store:
            self.cache.put(self.key(cand, p.sample), full)
        return full

    def prefix_key(self, cand: Candidate, p: Prefix) -> str:
        """Cache key of the candidate's outputs on the first rows of `p`'s order (however many are stored)."""
        return cache_key(outputs=self.key(cand, p.sample), order=p.order_key)

    @contextmanager
    def loaded(self, cand: Candidate) -> Iterator[tuple[Any, Any, str]]:
        """The candidate's model (on the device, in eval mode), preprocessor and local folder, freed on exit unless
        held (`hold`).

        Raises:
            `CandidateError`: download or load failed, or inference failed inside the block.
        """
        held = self._held.pop(cand.repo_id, None)
        if held is not None:
            self.stats.models_reused += 1
            model, preprocessor, path, nbytes = held
        else:
            model, preprocessor, path, nbytes = self._load(cand)
        try:
            yield model, preprocessor, path
        except (CandidateError, HFSearchError):  # a cancelled search, or a cache folder that cannot be written: stop
            raise
        except Exception as exc:  # noqa: BLE001
            raise CandidateError(f"inference failed: {one_line(exc)}", stage="inference") from None
        else:
            if nbytes + sum(h[3] for h in self._held.values()) <= self._hold_bytes:
                self._held[cand.repo_id] = (model, preprocessor, path, nbytes)
        finally:
            del model
            if torch.cuda.is_available() and not self._held:
                torch.cuda.empty_cache()

    def _load(self, cand: Candidate) -> tuple[Any, Any, str, int]:
        """Load the candidate's model onto the device and its preprocessor; returns them, the folder and the bytes
        of weights read."""
        path = self.local_path(cand)
        t0 = time.perf_counter()
        try:
            check_weights(path)  # a truncated or corrupt file is named, before transformers reads it
            model = self.adapter.load_model(path, allow_pickle=self.allow_pickle)
            preprocessor = self.preprocessor(path)
        except CandidateError:
            raise
        except CorruptWeights as exc:
            raise CandidateError(f"load failed: {exc}", stage="load") from None
        except Exception as exc:  # noqa: BLE001
            raise CandidateError(f"load failed: {one_line(exc)}", stage="load") from None
        self.adapter.check_compatible(cand, model)
        nbytes = weights_bytes(path, self.allow_pickle)
        self.weights_read[cand.repo_id] = nbytes
        self.stats.models_loaded += 1
        self.stats.bytes_read += nbytes
        model.eval()
        try:
            model = model.to(self.accelerator.device)
        except (RuntimeError, MemoryError) as exc:  # out of memory on the device: this candidate, not the search
            del model
            raise CandidateError(f"load failed: {one_line(exc)}", stage="load") from None
        self.stats.load_seconds += time.perf_counter() - t0
        return model, preprocessor, path, nbytes

    def preprocessor_key(self, path: str) -> str:
        """`TaskAdapter.preprocessor_key` of the folder, computed once per folder (it hashes the preprocessor files,
        which may weigh megabytes, and every sample a candidate runs needs it)."""
        if path not in self._preprocessor_keys:
            self._preprocessor_keys[path] = self.adapter.preprocessor_key(path)
        return self._preprocessor_keys[path]

    def preprocessor(self, path: str) -> Any:
        """The folder's tokenizer or processor, loaded once per set of identical files (fine-tunes of one base model
        share them) when the task allows it (`TaskAdapter.preprocessor_from_key`)."""
        key = self.preprocessor_key(path) if self.adapter.preprocessor_from_key else None
        if key is not None and key in self._preprocessors:
            self.stats.preprocessors_reused += 1
            return self._preprocessors[key]
        preprocessor = self.adapter.load_preprocessor(path)
        if key is not None:
            if len(self._preprocessors) >= PREPROCESSORS_KEPT:
                self._preprocessors.pop(next(iter(self._preprocessors)))
            self._preprocessors[key] = preprocessor
        return preprocessor

    def compute(
        self, model: Any, preprocessor: Any, path: str, sample: Sample, *, check: Callable[[], None] | None = None
    ) -> Outputs:
        """Run a loaded model over every row of `sample` (encoded once per preprocessor family)."""
        enc = self.encoding(path, preprocessor, sample)
        out = self.forward_all(model, enc, preprocessor, len(sample), check=check)
        self.stats.rows_computed += len(sample)
        return out

    def encoding(self, path: str, preprocessor: Any, sample: Sample) -> Encoded:
        """The sample encoded by this preprocessor, computed once per preprocessor family."""
        key = (self.preprocessor_key(path), sample.fingerprint)
        if key not in self._encodings:
            if len(self._encodings) > 16:
                self._encodings.pop(next(iter(self._encodings)))
            self._encodings[key] = self.adapter.encode(
                preprocessor, sample.rows, sample.columns, max_length=self.max_length
            )
        return self._encodings[key]

    def forward_all(
        self, model: Any, enc: Encoded, preprocessor: Any, n_rows: int, *, check: Callable[[], None] | None = None
    ) -> Outputs:
        """Forward every batch; on CUDA out-of-memory halve the batch size and retry (recorded, never a crash)."""
        batch_size = self.batch_size
        while True:
            try:
                return self._forward(model, enc, preprocessor, n_rows, batch_size, check)
            except torch.cuda.OutOfMemoryError:
                if batch_size == 1:
                    raise
                torch.cuda.empty_cache()
                self.stats.oom_backoffs.append(f"batch size {batch_size} -> {batch_size // 2}")
                batch_size //= 2

    def _forward(
        self,
        model: Any,
        enc: Encoded,
        preprocessor: Any,
        n_rows: int,
        batch_size: int,
        check: Callable[[], None] | None = None,
    ) -> Outputs:
        device = self.accelerator.device
        logits_out: np.ndarray | None = None
        feats_out: np.ndarray | None = None
        t0 = time.perf_counter()
        with torch.inference_mode(), self.accelerator.autocast():
            for idx, batch in self.adapter.batches(enc, batch_size, preprocessor):
                if check is not None:
                    check()
                batch = {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}
                logits, feats = self.adapter.forward(model, batch)
                logits = logits.float().cpu().numpy()
                feats = feats.float().cpu().numpy()
                if logits_out is None:
                    logits_out = np.zeros((n_rows,) + logits.shape[1:], dtype=np.float32)
                    feats_out = np.zeros((n_rows,) + feats.shape[1:], dtype=np.float16)
                logits_out[idx] = logits
                feats_out[idx] = feats  # type: ignore[index]
        self.stats.forward_seconds += time.perf_counter() - t0
        assert logits_out is not None and feats_out is not None
        return Outputs(logits=logits_out, features=feats_out)
