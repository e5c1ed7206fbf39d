"""Sandboxed Jinja2: the originals, the checks an override must pass, and rendering.

Every template is compiled under the file name ``<template>`` so that a runtime error can be
traced back to a line of the one source being rendered, wherever that source lives (a file
in ``templates/``, a ``{file: …}`` override, or inline text in an account file).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import jinja2
from jinja2 import nodes
from jinja2.meta import find_undeclared_variables
from jinja2.sandbox import SandboxedEnvironment

from ametrika_gitops.diagnostics import Diagnostic, error
from ametrika_gitops.errors import AmetrikaError, RepositoryError
from ametrika_gitops.render.bounds import (
    MAX_NODES,
    MAX_OUTPUT,
    MAX_TEMPLATE,
    RENDER_SECONDS,
    LimitExceeded,
    budget,
)
from ametrika_gitops.render.instrument import instrument
from ametrika_gitops.render.sandbox import BoundedSandbox

LAYOUT = "layout.html.j2"
_NAME = "<template>"
# An HTML body is placed in the shared layout. The prefix stands on the body's first line so
# that line numbers in errors stay the body's own.
_HTML_PREFIX = '{% extends "' + LAYOUT + '" %}{% block body %}'
_HTML_SUFFIX = "{% endblock %}"


Origin = Literal["original", "override"]
ORIGIN_ORIGINAL: Origin = "original"
ORIGIN_OVERRIDE: Origin = "override"


@dataclass(frozen=True)
class Source:
    """Template text and where it comes from, so that errors point at the right place."""

    text: str
    origin: Origin
    file: str  # display path of the file the text stands in
    line: int = 1  # file line of the template's first line
    column: int = 1

    def position(self, template_line: int) -> tuple[int, int]:
        n = max(1, min(template_line, self.text.count("\n") + 1))
        return self.line + n - 1, self.column if n == 1 else max(1, self.column)


class TemplateError(AmetrikaError):
    """A template that fails to render, as the finding that says where and why. The rendering
    code turns it into a finding; should it ever reach the command line, it is an expected
    failure (exit 1), not a crash."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _original_file(locale: str, type_id: str, kind: str) -> str:
    suffix = {
        "subject": "subject.j2",
        "html": "html.j2",
        "text": "txt.j2",
        "footer_html": "html.j2",
        "footer_text": "txt.j2",
    }[kind]
    stem = "footer" if kind.startswith("footer") else type_id
    return f"templates/{locale}/{stem}.{suffix}"


def _template_line(tb: TracebackType | None) -> int:
    line = 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _NAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


_TOO_DEEP = "the template is nested too deeply"
_LIMIT_HINT = "a template lays out the variables of its e-mail type; see Bounds in the README"


def _parse(env: SandboxedEnvironment, text: str, name: str | None = None) -> nodes.Template:
    """Parse, within the bounds on a template's size (parsing and compiling cost per element)."""
    if len(text) > MAX_TEMPLATE:
        raise LimitExceeded(
            f"the template has {len(text):,} characters; the limit is {MAX_TEMPLATE:,} (128 KiB)"
        )
    ast = env.parse(text, name, name)
    for count, _ in enumerate(ast.find_all(nodes.Node), 1):
        if count > MAX_NODES:
            raise LimitExceeded(
                f"the template has more than {MAX_NODES:,} elements (text, tags, expressions)"
            )
    return ast


CACHED = 1024  # compiled templates kept: each may weigh up to a few MB when near the bounds


def _make_room(cache: dict[Any, Any]) -> None:
    """Forget the oldest entry of a full cache: memory stays bounded over many accounts."""
    if len(cache) >= CACHED:
        del cache[next(iter(cache))]


def _short(text: str, limit: int = 200) -> str:
    """An exception's text, on one line and short: it may quote a value of any size."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _output(chunks: Iterator[str]) -> str:
    """The chunks of a render, joined, no more than MAX_OUTPUT characters."""
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            # raised inside the template, where it stands: the traceback gives the line
            chunks.throw(  # type: ignore[attr-defined]
                LimitExceeded(f"the template renders to more than {MAX_OUTPUT:,} characters")
            )
        out.append(chunk)
    return "".join(out)


class Engine:
    """Two sandboxed environments (HTML autoescaped, text not) and a cache of compiled text."""

    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            layout = (root / "templates" / LAYOUT).read_text(encoding="utf-8")
        except OSError as exc:
            raise RepositoryError(f"cannot read templates/{LAYOUT}: {exc.strerror}") from exc
        common: dict[str, Any] = {"undefined": jinja2.StrictUndefined, "auto_reload": False}
        self.html_env = BoundedSandbox(
            loader=jinja2.DictLoader({LAYOUT: layout}), autoescape=True, **common
        )
        self.text_env = BoundedSandbox(autoescape=False, **common)
        self._compiled: dict[tuple[str, str, bool], jinja2.Template] = {}
        self._originals: dict[str, Source] = {}
        self._checked: dict[
            tuple[str, str, frozenset[str]], tuple[tuple[int, str, str, str], ...]
        ] = {}
        from ametrika_gitops.render.filters import register_filters

        register_filters(self.html_env, self.text_env)  # Babel formats; button() in HTML

    def original(self, locale: str, type_id: str, kind: str) -> Source:
        file = _original_file(locale, type_id, kind)
        src = self._originals.get(file)
        if src is None:
            try:
                text = (self.root / file).read_text(encoding="utf-8")
            except OSError as exc:
                raise RepositoryError(f"missing original template {file}") from exc
            src = self._originals[file] = Source(text, ORIGIN_ORIGINAL, file)
        return src

    def _env(self, kind: str) -> SandboxedEnvironment:
        return self.html_env if kind in ("html", "footer_html") else self.text_env

    def _wrapped(self, src: Source, kind: str) -> str:
        return _HTML_PREFIX + src.text + _HTML_SUFFIX if kind == "html" else src.text

    def check(self, src: Source, kind: str, allowed: frozenset[str]) -> list[Diagnostic]:
        """Static checks: syntax, unknown filters and tests, unknown variables, internals."""
        key = (kind, src.text, allowed)
        found = self._checked.get(key)
        if found is None:  # the same override text is often shared: check it once
            _make_room(self._checked)
            found = self._checked[key] = tuple(self._problems(src.text, kind, allowed))
        return [self._diag(src, line, code, message, hint) for line, code, message, hint in found]

    def _problems(
        self, text: str, kind: str, allowed: frozenset[str]
    ) -> list[tuple[int, str, str, str]]:
        """(template line, code, message, hint) of each problem of ``text``."""
        env = self._env(kind)
        try:
            ast = _parse(env, text)
        except LimitExceeded as exc:
            return [(1, "template-limit", str(exc), _LIMIT_HINT)]
        except jinja2.TemplateSyntaxError as exc:
            return [
                (
                    exc.lineno or 1,
                    "template-syntax",
                    f"template syntax error: {exc.message}",
                    "see the Jinja2 template syntax; {{ variable }}, {% if %}…{% endif %}",
                )
            ]
        except RecursionError:  # Jinja's parser recurses once per level of nesting
            return [(1, "template-syntax", _TOO_DEEP, "write simpler expressions")]
        out: list[tuple[int, str, str, str]] = []
        for ft in ast.find_all((nodes.Filter, nodes.Test)):
            table = env.filters if isinstance(ft, nodes.Filter) else env.tests
            what = "filter" if isinstance(ft, nodes.Filter) else "test"
            if ft.name not in table:
                out.append(
                    (
                        ft.lineno,
                        "template-filter",
                        f"unknown {what} '{ft.name}'",
                        f"use a built-in Jinja2 {what}, such as "
                        + (
                            "upper, lower, format, default"
                            if what == "filter"
                            else "defined, none, number"
                        ),
                    )
                )
        for access in ast.find_all((nodes.Getattr, nodes.Getitem)):
            attr: object = getattr(access, "attr", None)
            arg = getattr(access, "arg", None)
            if isinstance(arg, nodes.Const):
                attr = arg.value
            if isinstance(attr, str) and attr.startswith("_"):
                out.append(
                    (
                        access.lineno,
                        "template-unsafe",
                        f"access to '{attr}' is not allowed in a template",
                        "templates may use only the variables of their e-mail type",
                    )
                )
        try:
            unknown = find_undeclared_variables(ast) - allowed - set(env.globals)
        except jinja2.TemplateSyntaxError:  # the code generator's own checks: reported above
            return out
        if unknown:
            first_line: dict[str, int] = {}
            for name_node in ast.find_all(nodes.Name):
                if name_node.name in unknown:
                    first_line.setdefault(name_node.name, name_node.lineno)
            choices = ", ".join(sorted(allowed)) or "none"
            for name in sorted(unknown):
                out.append(
                    (
                        first_line.get(name, 1),
                        "template-undefined",
                        f"unknown variable '{name}'",
                        f"this e-mail type receives: {choices}",
                    )
                )
        return out

    def compiled(self, src: Source, kind: str) -> jinja2.Template:
        untrusted = src.origin != ORIGIN_ORIGINAL
        key = (kind, src.text, untrusted)
        tmpl = self._compiled.get(key)
        if tmpl is None:
            env = self._env(kind)
            ast = _parse(env, self._wrapped(src, kind), _NAME)
            # an override's outputs and loops are counted too (the originals are trusted)
            code = env.compile(instrument(ast) if untrusted else ast, _NAME, _NAME)
            _make_room(self._compiled)
            tmpl = self._compiled[key] = env.template_class.from_code(
                env, code, env.make_globals(None), None
            )
        return tmpl

    def render(self, src: Source, kind: str, context: Mapping[str, Any]) -> str:
        """Render within the bounds of render/bounds.py, or raise TemplateError pointing at
        the source's line. The originals are trusted: only the sizes of what their operations
        build are checked."""
        try:
            tmpl = self.compiled(src, kind)
        except RecursionError:  # the compiler recurses once per level of nesting
            raise TemplateError(self._diag(src, 1, "template-syntax", _TOO_DEEP)) from None
        except LimitExceeded as exc:
            raise TemplateError(
                self._diag(src, 1, "template-limit", str(exc), _LIMIT_HINT)
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                self._diag(
                    src, exc.lineno or 1, "template-syntax", f"template syntax error: {exc.message}"
                )
            ) from None
        try:
            if src.origin == ORIGIN_ORIGINAL:  # trusted, and rendered thousands of times
                return tmpl.render(context)
            with budget(RENDER_SECONDS):
                return _output(tmpl.generate(context))
        except LimitExceeded as exc:
            line = _template_line(sys.exc_info()[2])
            raise TemplateError(
                self._diag(
                    src,
                    line,
                    "template-limit",
                    str(exc),
                    _LIMIT_HINT,
                )
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                self._diag(
                    src, exc.lineno or 1, "template-syntax", f"template syntax error: {exc.message}"
                )
            ) from None
        except jinja2.exceptions.SecurityError as exc:
            line = _template_line(sys.exc_info()[2])
            raise TemplateError(
                self._diag(
                    src,
                    line,
                    "template-unsafe",
                    f"unsafe template operation: {exc}",
                    "the template sandbox refuses this; a template only "
                    "lays out the variables of its e-mail type",
                )
            ) from None
        except jinja2.UndefinedError as exc:
            line = _template_line(sys.exc_info()[2])
            raise TemplateError(
                self._diag(
                    src,
                    line,
                    "template-undefined",
                    f"undefined value with the sample data: {exc.message}",
                    "check the names against the e-mail type's variables in templates/catalog.yaml",
                )
            ) from None
        except Exception as exc:  # noqa: BLE001 - whatever template code raises is its fault
            line = _template_line(sys.exc_info()[2])
            raise TemplateError(
                self._diag(
                    src,
                    line,
                    "template-render",
                    f"the template fails with the sample data: {exc.__class__.__name__}: "
                    + _short(str(exc)),
                )
            ) from None

    def _diag(self, src: Source, tline: int, code: str, message: str, hint: str = "") -> Diagnostic:
        line, col = src.position(tline)
        return error(src.file, line, col, code, message, hint)
