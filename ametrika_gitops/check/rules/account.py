"""Rules on the ``account`` block."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ametrika_gitops.check.rules.base import RuleContext, rule
from ametrika_gitops.diagnostics import Diagnostic

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def id_suggestion(text: str) -> str | None:
    """A valid id close to ``text`` (lower case, hyphens for the rest), or None."""
    suggestion = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63]
    return suggestion if ID_RE.match(suggestion) else None


@rule("id-syntax", refines=("wrong-form", "wrong-length"))
def id_syntax(ctx: RuleContext) -> Iterator[Diagnostic]:
    """account.id is 2–63 lower-case letters, digits and hyphens, starting with a letter or digit.

    Passes: ``id: acme-france``
    Fails:  ``id: ACME_France`` (upper case and underscore)
    """
    value = ctx.get("account", "id")
    if isinstance(value, str) and not ID_RE.match(value):
        suggestion = id_suggestion(value) or "acme-france"
        hint = f"for example `{suggestion}`"
        if value == ctx.stem:  # the file name is the id: both change
            hint += f", in a file renamed to {suggestion}.yaml"
        yield ctx.error(
            ("account", "id"),
            "account.id must be 2–63 lower-case letters, digits or hyphens, "
            "starting with a letter or digit",
            hint,
        )


@rule("id-matches-file")
def id_matches_file(ctx: RuleContext) -> Iterator[Diagnostic]:
    """account.id equals the file's stem, so that a file name always tells the account.

    Passes: ``accounts/acme.yaml`` with ``id: acme``
    Fails:  ``accounts/acme.yaml`` with ``id: acme-fr``
    """
    value = ctx.get("account", "id")
    if isinstance(value, str) and value != ctx.stem:
        # suggest only what gives a valid id: `set id: NewCo2` would trade one error for another
        fixes = []
        if ID_RE.match(value):
            fixes.append(f"rename the file to {value}.yaml")
        if ID_RE.match(ctx.stem):
            fixes.append(f"set id: {ctx.stem}")
        if not fixes:
            both = id_suggestion(ctx.stem) or id_suggestion(value) or "acme-france"
            fixes.append(f"rename the file to {both}.yaml and set id: {both}")
        yield ctx.error(
            ("account", "id"),
            f"account.id '{value}' differs from the file name '{ctx.stem}'",
            ", or ".join(fixes),
        )


@rule("locale-unknown", refines=("not-allowed",))
def locales_known(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Every locale of account.locales exists in the template catalogue.

    Passes: ``locales: [fr, en]``
    Fails:  ``locales: [de]`` (no German originals)
    """
    locales = ctx.get("account", "locales")
    if not isinstance(locales, list):
        return
    for i, loc in enumerate(locales):
        if isinstance(loc, str) and loc not in ctx.catalog.locales:
            yield ctx.error(
                ("account", "locales", i),
                f"no original templates in locale '{loc}'",
                f"use one of: {', '.join(ctx.catalog.locales)}",
            )
