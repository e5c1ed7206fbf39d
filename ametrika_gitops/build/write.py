"""Write bundles: all or nothing, byte-identical on re-run, stale bundles removed."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ametrika_gitops.build.bundle import Written, build_bundle, build_manifest
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
class Summary:
    """What compile says about one bundle (text line, or an object of --format json)."""

    id: str
    mode: str
    bundle: str  # file name in the output folder
    hash: str
    dns_records: int
    templates: int
    overridden: tuple[str, ...]  # "insights/fr"…
    footer_overridden: tuple[str, ...]  # locales

    @classmethod
    def of(cls, w: Written) -> Summary:
        b = w.bundle
        return cls(
            id=b.id,
            mode=b.account.sender.mode,
            bundle=f"{b.id}.json",
            hash=w.hash,
            dns_records=len(b.records),
            templates=len(b.emails),
            overridden=tuple(b.overridden),
            footer_overridden=tuple(b.footers_overridden),
        )

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


def write_bundles(
    results: list[Checked], out: Path, tick: Callable[[], None] | None = None
) -> list[Summary]:
    """Write every bundle, then the manifest; ``tick`` after each bundle (progress)."""
    written = []
    for r in results:
        if r.account is not None:
            bundle = build_bundle(r)
            written.append(Written(bundle, *bundle.sealed()))
            if tick is not None:
                tick()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AmetrikaError(f"cannot create {out}: {exc.strerror}") from exc
    stale = _previous(out)
    for w in written:
        name = f"{w.bundle.id}.json"
        _write(out / name, w.text)
        stale.discard(name)
    _write(out / MANIFEST, canonical(build_manifest(written)))
    for name in sorted(stale):
        (out / name).unlink(missing_ok=True)
    return [Summary.of(w) for w in sorted(written, key=lambda w: w.bundle.id)]
