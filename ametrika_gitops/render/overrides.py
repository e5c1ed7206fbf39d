"""Template overrides, resolved once: each ``{file: …}`` is opened and read a single time, and
the resulting value (its text, or the problem that makes it unusable) is what the rules,
the renderer and CODEOWNERS all use."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ametrika_gitops.config.files import Refused, read_limited
from ametrika_gitops.config.loader import MAX_BYTES, Document, JsonPath
from ametrika_gitops.render.engine import ORIGIN_OVERRIDE, Source

FOOTER = "footer"


@dataclass(frozen=True)
class FileProblem:
    message: str
    hint: str


@dataclass(frozen=True)
class Override:
    """One overridden part (``templates.<type>.<locale>.<part>``) of an account file."""

    type_id: str
    locale: str
    part: str
    file: str | None  # the {file: …} reference as written, when the text lives in a file
    source: Source | None  # None when the value is malformed or its file unusable
    problem: FileProblem | None = None  # why a {file: …} is unusable

    @property
    def path(self) -> JsonPath:
        return ("templates", self.type_id, self.locale, self.part)


def read_override_file(root: Path, rel: str) -> str | FileProblem:
    """The text of a ``{file: …}`` override, read once, or why it cannot be used."""
    if not rel or "\x00" in rel or Path(rel).is_absolute() or rel.startswith("~"):
        return FileProblem(
            f"'{_shown(rel)}' is not a path relative to the repository root",
            "write it from the repository root, e.g. overrides/acme/insights.fr.html.j2",
        )
    try:
        target = (root / rel).resolve(strict=False)
        inside = target.is_relative_to(root.resolve())
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a name too long
        return _unreadable(rel)
    if not inside:
        return FileProblem(
            f"'{_shown(rel)}' leads outside the repository",
            "keep override files inside the repository, e.g. under overrides/",
        )
    data = read_limited(target, MAX_BYTES)
    if not isinstance(data, bytes):
        return _refused(rel, data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return FileProblem(f"template file '{_shown(rel)}' is not valid UTF-8", "save it as UTF-8")


def _refused(rel: str, refused: Refused) -> FileProblem:
    if refused.reason == "missing":
        return FileProblem(
            f"template file '{_shown(rel)}' does not exist",
            "create it, or fix the path (relative to the repository root)",
        )
    if refused.reason == "not-regular":
        return FileProblem(
            f"template file '{_shown(rel)}' is not a regular file",
            "point at a template file, not a folder, device or pipe",
        )
    if refused.reason == "too-large":
        return FileProblem(
            f"template file '{_shown(rel)}' is larger than 1 MiB", "keep templates small"
        )
    return _unreadable(rel)


def _shown(rel: str) -> str:
    """A path as written, safe to print on one line."""
    return rel.encode("unicode_escape").decode("ascii") if not rel.isprintable() else rel


def _unreadable(rel: str) -> FileProblem:
    return FileProblem(
        f"template file '{_shown(rel)}' cannot be read (a symlink loop, a name "
        "too long, or an invalid character)",
        "name a plain file inside the repository",
    )


def _parts(doc: Document) -> Iterator[tuple[str, str, str, object]]:
    templates = doc.data.get("templates") if isinstance(doc.data, dict) else None
    if not isinstance(templates, dict):
        return
    for type_id, per_locale in templates.items():
        if not isinstance(per_locale, dict):
            continue
        for locale, parts in per_locale.items():
            if not isinstance(parts, dict):
                continue
            for part, value in parts.items():
                yield str(type_id), str(locale), str(part), value


def resolve_overrides(doc: Document, root: Path) -> tuple[Override, ...]:
    """Every override of the document, each ``{file: …}`` read once."""
    found: list[Override] = []
    for type_id, locale, part, value in _parts(doc):
        path: JsonPath = ("templates", type_id, locale, part)
        if isinstance(value, dict):
            rel = value.get("file")
            if not isinstance(rel, str):
                found.append(Override(type_id, locale, part, None, None))
                continue
            text = read_override_file(root, rel)
            if isinstance(text, FileProblem):
                found.append(Override(type_id, locale, part, rel, None, text))
            else:
                src = Source(text, ORIGIN_OVERRIDE, Path(rel).as_posix())
                found.append(Override(type_id, locale, part, rel, src))
        elif isinstance(value, str):
            pos = doc.at(path)
            if path in doc.block_scalars:  # `|` or `>`: the text starts on the next line
                src = Source(
                    value, ORIGIN_OVERRIDE, doc.path, pos.line + 1, doc.key_at(path).column + 2
                )
            else:
                src = Source(value, ORIGIN_OVERRIDE, doc.path, pos.line, pos.column)
            found.append(Override(type_id, locale, part, None, src))
        else:
            found.append(Override(type_id, locale, part, None, None))
    return tuple(found)
