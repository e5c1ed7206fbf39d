"""Write bundles: all or nothing, byte-identical on re-run, stale bundles removed."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ametrika_gitops.build.bundle import build_bundle, build_manifest
from ametrika_gitops.canonical import canonical
from ametrika_gitops.check.pipeline import Checked
from ametrika_gitops.errors import AmetrikaError

MANIFEST = "manifest.json"


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _previous(out: Path) -> set[str]:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        return {str(a["bundle"]) for a in data["accounts"]}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


@dataclass(frozen=True)
class Written:
    """What compile says about one bundle (text line, or an object of --format json)."""

    id: str
    mode: str
    bundle: str  # file name in the output folder
    hash: str
    dns_records: int
    templates: int
    overridden: tuple[str, ...]  # "insights/fr"…
    footer_overridden: tuple[str, ...]  # locales

    @property
    def line(self) -> str:
        original = self.templates - len(self.overridden)
        line = (
            f"{self.id}: {self.mode}, {self.dns_records} DNS records; "
            f"{original} of {self.templates} templates original"
        )
        if self.overridden:
            line += f"; overridden: {', '.join(self.overridden)}"
        if self.footer_overridden:
            line += f"; footer overridden: {', '.join(self.footer_overridden)}"
        return line


def _written(b: dict[str, Any]) -> Written:
    overridden = sorted(
        f"{t}/{loc}"
        for t, per in b["templates"].items()
        for loc, e in per.items()
        if e["origin"] == "override"
    )
    footers = sorted(loc for loc, f in b["footer"].items() if f["origin"] == "override")
    return Written(
        id=b["account"]["id"],
        mode=b["sender"]["mode"],
        bundle=f"{b['account']['id']}.json",
        hash=b["hash"],
        dns_records=len(b["dns"]["records"]),
        templates=sum(len(per) for per in b["templates"].values()),
        overridden=tuple(overridden),
        footer_overridden=tuple(footers),
    )


def write_bundles(
    results: list[Checked], out: Path, tick: Callable[[], None] | None = None
) -> list[Written]:
    """Write every bundle, then the manifest; ``tick`` after each bundle (progress)."""
    built = []
    for r in results:
        if r.account is not None:
            built.append(build_bundle(r))
            if tick is not None:
                tick()
    bundles = [b for b, _ in built]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AmetrikaError(f"cannot create {out}: {exc.strerror}") from exc
    stale = _previous(out)
    for b, text in built:
        name = f"{b['account']['id']}.json"
        _write(out / name, text)
        stale.discard(name)
    _write(out / MANIFEST, canonical(build_manifest(bundles)))
    for name in sorted(stale):
        (out / name).unlink(missing_ok=True)
    return [_written(b) for b in sorted(bundles, key=lambda b: str(b["account"]["id"]))]
