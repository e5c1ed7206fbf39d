"""Rules on ``templates``: known types and locales, and ``{file: …}`` paths."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from ametrika_gitops.check.rules.base import RuleContext, rule
from ametrika_gitops.diagnostics import Diagnostic
from ametrika_gitops.render.overrides import FOOTER


@rule("template-unknown-type", refines=("unknown-key",))
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
            yield ctx.error(
                ("templates", type_id),
                f"unknown e-mail type '{type_id}'",
                hint,
                at_key=True,
            )


@rule("template-locale", refines=("wrong-form", "unknown-key"))
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
                yield ctx.error(
                    ("templates", type_id, locale),
                    f"override for locale '{locale}', which the account does not "
                    f"use (account.locales: {', '.join(map(str, locales))})",
                    f"add {locale} to account.locales, or remove this override",
                    at_key=True,
                )
            elif etype is not None and locale not in etype.locales:
                yield ctx.error(
                    ("templates", type_id, locale),
                    f"e-mail type '{type_id}' has no locale '{locale}'",
                    f"its locales: {', '.join(etype.locales)}",
                    at_key=True,
                )


@rule("template-file")
def template_files(ctx: RuleContext) -> Iterator[Diagnostic]:
    """``{file: …}`` paths exist, are UTF-8 and stay inside the repository.

    Passes: ``html: {file: overrides/acme/insights.fr.html.j2}``
    Fails:  ``html: {file: ../secrets.txt}``, ``html: {file: overrides/missing.j2}``
    """
    for o in ctx.overrides:
        if o.problem is not None:
            yield ctx.error((*o.path, "file"), o.problem.message, o.problem.hint)


_KINDS = {"subject": "subject", "html": "html", "text": "text"}
_FOOTER_KINDS = {"html": "footer_html", "text": "footer_text"}


@rule("template-syntax")
def template_syntax(ctx: RuleContext) -> Iterator[Diagnostic]:
    """An override compiles in the sandbox and uses only what its e-mail type receives:
    no syntax error, no unknown filter or test, no unknown variable, no ``_private`` access.

    Passes: ``subject: "Your insights for {{ period.label }}"``
    Fails:  ``subject: "{{ nope }}"`` (unknown variable), ``"{{ x | shout }}"`` (unknown
    filter), ``"{% if %}"`` (syntax), ``"{{ ''.__class__ }}"`` (Python internals)
    """
    footer_names = frozenset(v.name for v in ctx.catalog.footer_variables)
    for o in ctx.overrides:
        etype = ctx.catalog.types.get(o.type_id)
        if o.type_id == FOOTER:
            kinds, allowed = _FOOTER_KINDS, footer_names
        elif etype is not None:
            kinds, allowed = _KINDS, etype.names
        else:
            continue
        if o.part in kinds and o.source is not None:
            yield from ctx.engine.check(o.source, kinds[o.part], allowed)
