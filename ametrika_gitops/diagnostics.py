"""Findings at ``path:line:col``, and their renderers (text, json, github)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass

Progress = Callable[[str], None]  # where a long command reports what it is doing (stderr)

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding. Field order is the sort order: by file, then position."""

    path: str
    line: int
    column: int
    code: str
    severity: str
    message: str
    hint: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


MAX_TEXT = 1000  # characters of a message or hint: one that quotes a value stays readable


def _capped(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return f"{text[: MAX_TEXT - 40]}… ({len(text) - MAX_TEXT + 40:,} more characters)"


def error(path: str, line: int, column: int, code: str, message: str, hint: str = "") -> Diagnostic:
    return Diagnostic(path, line, column, code, ERROR, _capped(message), _capped(hint))


def warning(
    path: str, line: int, column: int, code: str, message: str, hint: str = ""
) -> Diagnostic:
    return Diagnostic(path, line, column, code, WARNING, _capped(message), _capped(hint))


def printable(text: str) -> str:
    """``text`` on one line: line breaks and other control or invisible characters (a key or
    a file name may hold any) escaped, so that it cannot add lines to a report."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def has_errors(diags: Iterable[Diagnostic], strict: bool = False) -> bool:
    return any(d.is_error or strict for d in diags)


def _text(diags: Sequence[Diagnostic]) -> str:
    lines = []
    for d in diags:
        msg = printable(f"{d.message}; {d.hint}" if d.hint else d.message)
        lines.append(f"{printable(d.path)}:{d.line}:{d.column}: {d.severity}[{d.code}]: {msg}")
    return "".join(line + "\n" for line in lines)


def _json(diags: Sequence[Diagnostic]) -> str:
    return json.dumps([asdict(d) for d in diags], indent=2, ensure_ascii=False) + "\n"


def _gh_escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_prop(s: str) -> str:
    return _gh_escape_data(s).replace(":", "%3A").replace(",", "%2C")


def _github(diags: Sequence[Diagnostic]) -> str:
    out = []
    for d in diags:
        msg = f"{d.message}; {d.hint}" if d.hint else d.message
        props = (
            f"file={_gh_escape_prop(d.path)},line={d.line},col={d.column},"
            f"title={_gh_escape_prop(d.code)}"
        )
        out.append(f"::{d.severity} {props}::{_gh_escape_data(msg)}\n")
    return "".join(out)


RENDERERS: dict[str, Callable[[Sequence[Diagnostic]], str]] = {
    "text": _text,
    "json": _json,
    "github": _github,
}


def render(diags: Iterable[Diagnostic], fmt: str) -> str:
    return RENDERERS[fmt](sorted(set(diags)))
