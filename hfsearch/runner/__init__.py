"""Batched, cached inference of candidates (`accelerate` for devices and precision)."""

from .cache import OutputCache, Outputs, cache_key, default_cache_dir
from .runner import Runner, RunStats, make_accelerator

__all__ = ["OutputCache", "Outputs", "cache_key", "default_cache_dir", "Runner", "RunStats", "make_accelerator"]
