"""Rules on ``templates``: known types and locales, and ``{file: …}`` paths."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path

from ametrika_gitops.diagnostics import Diagnostic
from ametrika_gitops.loader import MAX_BYTES, JsonPath
from ametrika_gitops.rules.base import RuleContext
from ametrika_gitops.templating import Source

FOOTER = "footer"


def _overrides(ctx: RuleContext) -> Iterator[tuple[str, str, dict[str, object]]]:
    templates = ctx.get("templates")
    if not isinstance(templates, dict):
        return
    for type_id, per_locale in templates.items():
        if isinstance(per_locale, dict):
            for locale, parts in per_locale.items():
                if isinstance(parts, dict):
                    yield type_id, locale, parts


def known_types(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Overrides name e-mail types of the catalogue (or ``footer``).

    Passes: ``templates: {insights: …}``
    Fails:  ``templates: {insight: …}``
    """
    templates = ctx.get("templates")
    if not isinstance(templates, dict):
        return
    known = sorted(ctx.catalog.types) + [FOOTER]
    for type_id in templates:
        if type_id not in known:
            close = difflib.get_close_matches(type_id, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known types: {', '.join(known)}"
            yield ctx.error(("templates", type_id), "template-unknown-type",
                            f"unknown e-mail type '{type_id}'", hint, at_key=True)


def override_locales(ctx: RuleContext) -> Iterator[Diagnostic]:
    """An override's locale is one of the account's locales (and of the type's).

    Passes: ``locales: [fr, en]`` with ``templates: {insights: {fr: …}}``
    Fails:  ``locales: [fr]`` with ``templates: {insights: {en: …}}``
    """
    locales = ctx.get("account", "locales")
    if not isinstance(locales, list) or not all(isinstance(loc, str) for loc in locales):
        return  # the schema reports a malformed list
    templates = ctx.get("templates")
    if not isinstance(templates, dict):
        return
    for type_id, per_locale in templates.items():
        if not isinstance(per_locale, dict):
            continue
        etype = ctx.catalog.types.get(type_id)
        for locale in per_locale:
            if locale not in locales:
                yield ctx.error(("templates", type_id, locale), "template-locale",
                                f"override for locale '{locale}', which the account does not "
                                f"use (account.locales: {', '.join(map(str, locales))})",
                                f"add {locale} to account.locales, or remove this override",
                                at_key=True)
            elif etype is not None and locale not in etype.locales:
                yield ctx.error(("templates", type_id, locale), "template-locale",
                                f"e-mail type '{type_id}' has no locale '{locale}'",
                                f"its locales: {', '.join(etype.locales)}", at_key=True)


def file_problem(root: Path, rel: str) -> tuple[str, str] | None:
    """(message, hint) when a ``{file: …}`` path is unusable, else None."""
    if not rel or Path(rel).is_absolute() or rel.startswith("~"):
        return (f"'{rel}' is not a path relative to the repository root",
                "write it from the repository root, e.g. overrides/acme/insights.fr.html.j2")
    target = (root / rel).resolve()
    if not target.is_relative_to(root.resolve()):
        return (f"'{rel}' leads outside the repository",
                "keep override files inside the repository, e.g. under overrides/")
    if not target.is_file():
        return (f"template file '{rel}' does not exist",
                "create it, or fix the path (relative to the repository root)")
    if target.stat().st_size > MAX_BYTES:
        return f"template file '{rel}' is larger than 1 MiB", "keep templates small"
    try:
        target.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return f"template file '{rel}' is not valid UTF-8", "save it as UTF-8"
    return None


def template_files(ctx: RuleContext) -> Iterator[Diagnostic]:
    """``{file: …}`` paths exist, are UTF-8 and stay inside the repository.

    Passes: ``html: {file: overrides/acme/insights.fr.html.j2}``
    Fails:  ``html: {file: ../secrets.txt}``, ``html: {file: overrides/missing.j2}``
    """
    for type_id, locale, parts in _overrides(ctx):
        for part, value in parts.items():
            if isinstance(value, dict) and isinstance(value.get("file"), str):
                problem = file_problem(ctx.root, value["file"])
                if problem:
                    path: JsonPath = ("templates", type_id, locale, part, "file")
                    yield ctx.error(path, "template-file", *problem)


_KINDS = {"subject": "subject", "html": "html", "text": "text"}
_FOOTER_KINDS = {"html": "footer_html", "text": "footer_text"}


def override_source(ctx: RuleContext, value: object, path: JsonPath) -> Source | None:
    """The Source of an override value (inline text or a usable {file: …}), else None."""
    doc = ctx.doc
    if isinstance(value, dict):
        rel = value.get("file")
        if not isinstance(rel, str) or file_problem(ctx.root, rel):
            return None
        text = (ctx.root / rel).read_text(encoding="utf-8")
        return Source(text, "override", Path(rel).as_posix())
    if not isinstance(value, str):
        return None
    pos = doc.at(path)
    if path in doc.block_scalars:  # `|` or `>`: the text starts on the next line
        return Source(value, "override", doc.path, pos.line + 1, doc.key_at(path).column + 2)
    return Source(value, "override", doc.path, pos.line, pos.column)


def template_syntax(ctx: RuleContext) -> Iterator[Diagnostic]:
    """An override compiles in the sandbox and uses only what its e-mail type receives:
    no syntax error, no unknown filter or test, no unknown variable, no ``_private`` access.

    Passes: ``subject: "Your insights for {{ period.label }}"``
    Fails:  ``subject: "{{ nope }}"`` (unknown variable), ``"{{ x | shout }}"`` (unknown
    filter), ``"{% if %}"`` (syntax), ``"{{ ''.__class__ }}"`` (Python internals)
    """
    footer_names = frozenset(v.name for v in ctx.catalog.footer_variables)
    for type_id, locale, parts in _overrides(ctx):
        etype = ctx.catalog.types.get(type_id)
        if type_id == FOOTER:
            kinds, allowed = _FOOTER_KINDS, footer_names
        elif etype is not None:
            kinds, allowed = _KINDS, etype.names
        else:
            continue
        for part, value in parts.items():
            if part not in kinds:
                continue
            src = override_source(ctx, value, ("templates", type_id, locale, part))
            if src is not None:
                yield from ctx.engine.check(src, kinds[part], allowed)
