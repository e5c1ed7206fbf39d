"""Write bundles: all or nothing, byte-identical on re-run, stale bundles removed."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from ametrika_gitops.build.bundle import build_bundle, build_manifest
from ametrika_gitops.canonical import canonical
from ametrika_gitops.errors import AmetrikaError
from ametrika_gitops.check.pipeline import Checked

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
    built = [build_bundle(r) for r in results if r.account is not None]
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
    for b in sorted(bundles, key=lambda b: str(b["account"]["id"])):
        overridden = sorted(f"{t}/{loc}" for t, per in b["templates"].items()
                            for loc, e in per.items() if e["origin"] == "override")
        footers = sorted(loc for loc, f in b["footer"].items() if f["origin"] == "override")
        total = sum(len(per) for per in b["templates"].values())
        line = (f"{b['account']['id']}: {b['sender']['mode']}, "
                f"{len(b['dns']['records'])} DNS records; "
                f"{total - len(overridden)} of {total} templates original")
        if overridden:
            line += f"; overridden: {', '.join(overridden)}"
        if footers:
            line += f"; footer overridden: {', '.join(footers)}"
        yield line
    yield f"wrote {len(bundles)} bundles and {MANIFEST} to {out}"
