"""How a search option is declared (`Option`, `option`), read (`coerce`) and turned into CLI flags and docstrings.

The options themselves are declared once, as the fields of `hfsearch.config.SearchConfig`; this module holds the
machinery that every caller shares: the CLI (`add_arguments`), `hfsearch.find`'s docstring (`describe_options`) and
the Space's form (`iter_form_options`).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from .errors import ConfigError

#: The option groups, in the order the CLI help and the Space form show them.
GROUPS = ("target data", "candidates", "scoring", "labels", "inference")

#: How a caller names options: CLI flags, Python keywords, or the Space's form labels.
Via = Literal["flag", "keyword", "field"]
Kind = Literal["str", "int", "bool", "list", "params", "token"]


@dataclass(frozen=True)
class Option:
    """The declaration of one search option (stored in the dataclass field's metadata by `option`).

    Args:
        name (`str`): the keyword (the `SearchConfig` field name).
        kind (`str`): ``str``, ``int``, ``bool``, ``list`` (comma-separated strings), ``params`` (scorer parameters)
            or ``token`` (a secret: never printed, never serialised).
        help (`str`): one line for ``--help`` and the docstring of `hfsearch.find`.
        group (`str`): one of `GROUPS`.
        flag (`str`, *optional*): the CLI flag; ``None`` for options of the Python API only.
        label (`str`, *optional*): the Space form label; ``None`` for options the form does not show.
        choices (`tuple`, *optional*): allowed values.
        minimum, maximum (`float`, *optional*): inclusive bounds of a number.
        negate (`bool`): a boolean flag that sets the option to ``False`` (``--no-cache`` for ``use_cache``).
        task_option (`bool`): an option of the task adapter (passed to `TaskAdapter.configure` when set).
        required (`bool`): must be given.
        metavar (`str`, *optional*): the placeholder shown in ``--help``.
        byte_units (`bool`): a whole number of bytes that may be written with a unit, as ``transformers`` and
            ``huggingface_hub`` write sizes: ``500MB``, ``5GB`` (powers of 1000), ``2GiB`` (powers of 1024).
    """

    name: str
    kind: Kind
    help: str
    group: str
    flag: str | None = None
    label: str | None = None
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    negate: bool = False
    task_option: bool = False
    required: bool = False
    metavar: str | None = None
    byte_units: bool = False

    def name_for(self, via: Via) -> str:
        """The option's name as a caller of kind `via` knows it."""
        if via == "flag" and self.flag:
            return self.flag
        if via == "field" and self.label:
            return self.label
        return self.name


def option(default: Any = None, *, factory: Any = None, **spec: Any) -> Any:
    """A `SearchConfig` field declared with its `Option` (the name is filled in from the field)."""
    meta = {"option": spec}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def coerce(o: Option, value: Any, via: Via) -> Any:
    """`value` as the option's type (``None``, and empty text for optional options, mean "not given")."""
    name = o.name_for(via)
    if value is None:
        return None
    if o.kind == "token":
        return value
    if o.kind == "str":
        text = str(value).strip()
        return text or (None if not o.required else text)
    if o.kind == "int":
        if isinstance(value, bool):
            raise ConfigError(f"{name} must be a whole number (got {value!r}).")
        if isinstance(value, str):
            if not value.strip():
                return None
            if o.byte_units:
                return _bytes(value, name)
            try:
                value = float(value.strip())
            except ValueError:
                raise ConfigError(f"{name} must be a whole number (got {value!r}).") from None
        if isinstance(value, float):
            if not math.isfinite(value) or value != int(value):
                raise ConfigError(f"{name} must be a whole number (got {value!r}).")
            value = int(value)
        if not isinstance(value, int):
            raise ConfigError(f"{name} must be a whole number (got {value!r}).")
        return value
    if o.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.strip().lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"{name} must be true or false (got {value!r}).")
    if o.kind == "list":
        items = value.replace("\n", ",").split(",") if isinstance(value, str) else list(value)
        return [str(v).strip() for v in items if str(v).strip()] or None
    if o.kind == "params":
        return _score_params(value, name)
    raise AssertionError(o.kind)


_BYTE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}  # fmt: skip


def _bytes(text: str, name: str) -> int:
    """``"5GB"`` → 5_000_000_000, ``"1.2GiB"`` → 1_288_490_188, ``"5e8"`` → 500_000_000. Decimal arithmetic, so
    ``1.001GB`` is 1_001_000_000 exactly; a fraction of a byte is dropped (a budget needs no such precision)."""
    from decimal import Decimal, InvalidOperation

    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _BYTE_UNITS:
        raise ConfigError(f"{name} must be a number of bytes such as 500MB, 5GB, 2GiB or 5e9 (got {text!r}).")
    try:
        value = Decimal(match.group(1)) * _BYTE_UNITS[unit]
        return int(value)
    except (InvalidOperation, OverflowError, ValueError):
        raise ConfigError(f"{name} is too large (got {text!r}).") from None


def _score_params(value: Any, name: str) -> dict[str, dict[str, Any]]:
    """``["adaptivity.tau=0.6"]`` or ``{"adaptivity": {"tau": 0.6}}`` → ``{"adaptivity": {"tau": 0.6}}``."""
    if isinstance(value, Mapping):
        for scorer, given in value.items():
            if not isinstance(given, Mapping):
                raise ConfigError(f"{name}: parameters of {scorer!r} must be a mapping, got {given!r}.")
        return {str(k): dict(v) for k, v in value.items()}
    import yaml

    items = [value] if isinstance(value, str) else list(value)
    params: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, raw = str(item).partition("=")
        scorer, dot, param = key.partition(".")
        if not sep or not dot or not scorer.strip() or not param.strip():
            raise ConfigError(f"{name} expects SCORER.PARAM=VALUE, got {item!r}.")
        try:
            parsed = yaml.safe_load(raw)
        except yaml.YAMLError:
            parsed = raw
        params.setdefault(scorer.strip(), {})[param.strip()] = parsed
    return params


# ---- the CLI and the docstring, generated ----------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one flag per option that has one, grouped as in `GROUPS` (values are checked by `SearchConfig.from_args`)."""
    from .config import SearchConfig, options

    defaults = {f.name: f for f in fields(SearchConfig)}
    for group in GROUPS:
        g = parser.add_argument_group(group)
        for o in options().values():
            if o.group != group or not o.flag:
                continue
            if o.kind == "bool":
                action = "store_false" if o.negate else "store_true"
                g.add_argument(o.flag, dest=o.name, action=action, default=None, help=o.help)
                continue
            default = _default(defaults[o.name])
            shown = f" (default: {_show(default)})" if default not in (None, "", [], {}) else ""
            kwargs: dict[str, Any] = {"dest": o.name, "default": None, "help": o.help + shown}
            if o.required:
                kwargs["required"] = True
            if o.metavar:
                kwargs["metavar"] = o.metavar
            if o.choices:  # checked by SearchConfig.validate, so the message is hfsearch's own
                kwargs["help"] += f" (one of: {', '.join(o.choices)})"
                kwargs["metavar"] = o.metavar or o.name.upper()
            if o.kind == "params":
                kwargs["action"] = "append"
            g.add_argument(o.flag, **kwargs)


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, int) and value >= 10**6:
        return f"{value:.0e}".replace("+0", "")
    return str(value)


def describe_options(groups: Sequence[str] = GROUPS, indent: int = 8) -> str:
    """The options as HF-style ``Args:`` lines (used in the docstring of `hfsearch.find`)."""
    from .config import SearchConfig, options

    defaults = {f.name: f for f in fields(SearchConfig)}
    lines = []
    for o in options().values():
        if o.group not in groups or o.name in ("task", "dataset"):
            continue
        default = _default(defaults[o.name])
        kind = {"str": "str", "int": "int", "bool": "bool", "list": "list[str]", "params": "dict", "token": "str"}[
            o.kind
        ]
        tail = f", defaults to {_show(default)}" if default not in (None, [], {}) else ", *optional*"
        lines.append(" " * indent + f"{o.name} (`{kind}`{tail}): {o.help}.")
    return "\n".join(lines)


def iter_form_options() -> Iterator[Option]:
    """The options that the Space's form shows (those with a ``label``), in declaration order."""
    from .config import options

    return (o for o in options().values() if o.label)
