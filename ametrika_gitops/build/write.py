"""Write bundles: all or nothing, byte-identical on re-run, stale bundles removed."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from ametrika_gitops.build.bundle import Bundle, Written, build_bundle, build_manifest
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


def write_bundles(results: list[Checked], out: Path) -> Iterator[str]:
    """Write every bundle, then the manifest; yield one summary line per account."""
    written = []
    for r in results:
        if r.account is not None:
            bundle = build_bundle(r)
            written.append(Written(bundle, *bundle.sealed()))
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
    for w in sorted(written, key=lambda w: w.bundle.id):
        yield summary_line(w.bundle)
    yield f"wrote {len(written)} bundles and {MANIFEST} to {out}"


def summary_line(b: Bundle) -> str:
    overridden, footers = b.overridden, b.footers_overridden
    total = len(b.emails)
    line = (
        f"{b.id}: {b.account.sender.mode}, {len(b.records)} DNS records; "
        f"{total - len(overridden)} of {total} templates original"
    )
    if overridden:
        line += f"; overridden: {', '.join(overridden)}"
    if footers:
        line += f"; footer overridden: {', '.join(footers)}"
    return line
