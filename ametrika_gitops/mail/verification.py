"""The e-mail of ``recipients verify`` (H9): the catalogue's ``recipient-verification`` type,
rendered with the real code through the account's templates and overrides, in its first
locale, and built by the same message builder as every test e-mail — every other test send
depends on this one arriving."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from ametrika_gitops.check.pipeline import Checked
from ametrika_gitops.check.project import Project
from ametrika_gitops.errors import AmetrikaError
from ametrika_gitops.mail.message import build_message
from ametrika_gitops.render.emails import render_email
from ametrika_gitops.render.overrides import resolve_overrides

TYPE = "recipient-verification"


def verification_locale(checked: Checked, project: Project) -> str:
    """The account's first locale that the type has (the account's default language)."""
    assert checked.account is not None
    locales = project.catalog.types[TYPE].locales
    return next((loc for loc in checked.account.locales if loc in locales), locales[0])


def verification_message(
    project: Project,
    checked: Checked,
    recipient: str,
    code: str,
    date: datetime | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    account = checked.account
    assert account is not None and checked.doc is not None
    email, diags = render_email(
        account,
        checked.doc,
        project.catalog,
        project.engine,
        resolve_overrides(checked.doc, project.root),
        TYPE,
        verification_locale(checked, project),
        {"recipient": recipient, "code": code},
    )
    if email is None:  # the override renders with the samples but not with these values
        detail = "; ".join(f"{d.path}:{d.line}: {d.message}" for d in diags)
        raise AmetrikaError(f"the {TYPE} e-mail of {account.id} cannot be rendered: {detail}")
    return build_message(account, email, recipient, date, message_id)
