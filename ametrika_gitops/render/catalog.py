"""The platform's e-mail type catalogue (``templates/catalog.yaml``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ametrika_gitops.config.loader import load_file
from ametrika_gitops.errors import RepositoryError

CATALOG = "templates/catalog.yaml"
BINDABLE = ("account.id", "account.name", "sender.mode")


@dataclass(frozen=True)
class Variable:
    name: str
    type: str
    description: str
    sample: Any = None
    samples: Mapping[str, Any] | None = None
    bind: str | None = None

    def value(self, locale: str, bound: Mapping[str, Any]) -> Any:
        if self.bind:
            return bound[self.bind]
        if self.samples and locale in self.samples:
            return self.samples[locale]
        return self.sample


@dataclass(frozen=True)
class AttachmentSpec:
    """The file an e-mail type carries: its name comes from a variable; test sends attach
    the sample content."""

    variable: str
    content_type: str
    sample: str


@dataclass(frozen=True)
class EmailType:
    id: str
    purpose: str
    footer: bool
    locales: tuple[str, ...]
    variables: tuple[Variable, ...]
    unsubscribe: bool = False  # recurring mail: List-Unsubscribe (one click) and its Post
    attachment: AttachmentSpec | None = None

    @property
    def names(self) -> frozenset[str]:
        return frozenset(v.name for v in self.variables)


@dataclass(frozen=True)
class Header:
    """A header the tool adds, as the catalogue documents it."""

    name: str
    types: str
    value: str
    description: str


@dataclass(frozen=True)
class Catalog:
    locales: tuple[str, ...]
    types: Mapping[str, EmailType]
    footer_variables: tuple[Variable, ...]
    owners: tuple[str, ...] = ()
    headers: tuple[Header, ...] = ()
    layout: Mapping[str, str] | None = None  # the layout's variables → what each holds

    def context(
        self, variables: tuple[Variable, ...], locale: str, bound: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {v.name: v.value(locale, bound) for v in variables}


def _variables(raw: Any, where: str) -> tuple[Variable, ...]:
    if not isinstance(raw, dict):
        raise RepositoryError(f"{CATALOG}: {where}.variables must be a mapping")
    out = []
    for name, spec in sorted(raw.items()):
        if not isinstance(spec, dict) or "type" not in spec:
            raise RepositoryError(f"{CATALOG}: {where}.variables.{name} needs a type")
        bind = spec.get("bind")
        if bind is not None and bind not in BINDABLE:
            raise RepositoryError(f"{CATALOG}: {where}.variables.{name}: unknown bind {bind}")
        if bind is None and "sample" not in spec and "samples" not in spec:
            raise RepositoryError(f"{CATALOG}: {where}.variables.{name} needs a sample")
        out.append(
            Variable(
                name,
                str(spec["type"]),
                str(spec.get("description", "")),
                spec.get("sample"),
                spec.get("samples"),
                bind,
            )
        )
    return tuple(out)


def _attachment(raw: Any, variables: Any, tid: str) -> AttachmentSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("name") not in variables:
        raise RepositoryError(
            f"{CATALOG}: types.{tid}.attachment.name must name one of the type's variables"
        )
    return AttachmentSpec(str(raw["name"]), str(raw["content_type"]), str(raw["sample"]))


def load_catalog(root: Path) -> Catalog:
    doc, diags = load_file(root / CATALOG, CATALOG)
    if doc is None or diags:
        detail = "; ".join(f"{d.line}:{d.column} {d.message}" for d in diags)
        raise RepositoryError(f"cannot read {CATALOG}: {detail or 'not found'}")
    data = doc.data
    try:
        locales = tuple(data["locales"])
        types = {}
        for tid, spec in sorted(data["types"].items()):
            types[tid] = EmailType(
                tid,
                str(spec["purpose"]),
                bool(spec["footer"]),
                tuple(spec.get("locales", locales)),
                _variables(spec.get("variables", {}), f"types.{tid}"),
                bool(spec.get("unsubscribe", False)),
                _attachment(spec.get("attachment"), spec.get("variables", {}), tid),
            )
        footer = _variables(data["footer"]["variables"], "footer")
        headers = tuple(
            Header(str(name), str(h["types"]), str(h["value"]), str(h["description"]))
            for name, h in data.get("headers", {}).items()
        )
    except (KeyError, TypeError) as exc:
        raise RepositoryError(f"{CATALOG} is malformed: missing {exc}") from exc
    owners = tuple(str(o) for o in data.get("owners", []))
    layout = {str(k): str(v) for k, v in data.get("layout", {}).items()}
    return Catalog(locales, types, footer, owners, headers, layout)
