"""The zoo builder: small real candidate models trained on real domains, written as Hub-style checkpoints.

Used by ``hfsearch demo`` (a sentiment zoo built on first use), the tests (tiny checkpoints built in seconds) and
the benchmark workloads. See `hfsearch.zoo.recipe` for recipes, `hfsearch.zoo.build` for the
builder and `hfsearch.zoo.architectures` to add a model family.
"""

# Modules that register more architectures when imported.
from . import arch_image, arch_minilm, arch_timeseries, arch_tokens  # noqa: F401
from .architectures import Architecture, get_architecture, list_architectures, register_architecture
from .build import build_zoo
from .recipe import BuiltModel, CandidateRecipe, DomainSpec, ZooRecipe, demo_recipe, shipped_domain
from .train import TrainConfig

__all__ = [
    "Architecture",
    "BuiltModel",
    "CandidateRecipe",
    "DomainSpec",
    "TrainConfig",
    "ZooRecipe",
    "build_zoo",
    "demo_recipe",
    "get_architecture",
    "list_architectures",
    "register_architecture",
    "shipped_domain",
]
