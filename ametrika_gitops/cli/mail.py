"""test-send and recipients: real e-mails to verified addresses."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ametrika_gitops.check.project import display_path
from ametrika_gitops.cli import output
from ametrika_gitops.cli.common import (
    EXIT_FAIL,
    EXIT_OK,
    accounts_named,
    check_selection,
    complete_accounts,
    gate,
    one_account,
    progress,
)
from ametrika_gitops.errors import AmetrikaError

if TYPE_CHECKING:
    from ametrika_gitops.check.pipeline import Checked
    from ametrika_gitops.mail.testsend import Outcome


@click.command(name="test-send")
@click.argument("accounts", nargs=-1, metavar="[ACCOUNT|PATH]...", shell_complete=complete_accounts)
@click.option("--type", "types", multiple=True, help="Only this e-mail type (repeatable).")
@click.option("--locale", "locales", multiple=True, help="Only this locale (repeatable).")
@click.option(
    "--changed-since",
    metavar="REF",
    help="Only the accounts and e-mails whose sender or rendering differ from REF.",
)
@click.option(
    "--capture",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the exact messages as .eml files here instead of sending them.",
)
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a JUnit report: one test case per e-mail and recipient.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one object per e-mail and recipient (schemas/test-send.schema.json).",
)
@click.pass_context
def test_send(
    ctx: click.Context,
    accounts: tuple[str, ...],
    types: tuple[str, ...],
    locales: tuple[str, ...],
    changed_since: str | None,
    capture: Path | None,
    junit: Path | None,
    fmt: str,
) -> int:
    """Send each selected e-mail, rendered with its sample data, from the account's sender.

    Custom SMTP accounts send through their own server; the other modes through the
    platform relay (AMETRIKA_RELAY_URL, AMETRIKA_RELAY_PASSWORD). Only to the account's
    test.recipients, each verified (AMETRIKA_VERIFY_KEY checks the records in
    recipients/). Exit 1 if any send failed or any recipient is not verified.
    """
    from ametrika_gitops.mail import testsend
    from ametrika_gitops.mail.changes import at, changed, current

    project, results = accounts_named(ctx, accounts)
    check_selection(project, types, locales)
    if not gate(results):
        return EXIT_FAIL
    selected_changes = None
    if changed_since:
        selected_changes = changed(at(project.root, changed_since), current(results))
        output.info(
            f"changed since {changed_since}: {', '.join(sorted(selected_changes)) or 'no account'}"
        )
    selection = testsend.Selection(
        frozenset(types) or None, frozenset(locales) or None, selected_changes
    )
    pending, outcomes = testsend.prepare(
        results, selection, project.root, require_verified=capture is None
    )
    if capture is not None:
        outcomes += testsend.capture(pending, capture)
    elif sys.stderr.isatty() and pending and not output.settings().quiet:
        with click.progressbar(length=len(pending), label="sending", file=sys.stderr) as bar:
            outcomes += testsend.send(pending, lambda _: bar.update(1))
    else:
        outcomes += testsend.send(pending, progress)
    if not outcomes:
        output.info(_why_nothing(results, types, locales, changed_since))
    if fmt == "json":
        click.echo(_json(outcomes), nl=False)
    else:
        click.echo(output.paint_lines(testsend.summary(outcomes), _paint_result), nl=False)
    if junit is not None:
        testsend.junit(outcomes, junit)
    return EXIT_FAIL if any(o.status == "failed" for o in outcomes) else EXIT_OK


@click.group()
def recipients() -> None:
    """Verify the addresses test e-mails may go to."""


@recipients.command(name="verify")
@click.argument("account", shell_complete=complete_accounts)
@click.argument("address")
@click.pass_context
def recipients_verify(ctx: click.Context, account: str, address: str) -> int:
    """Mail a confirmation code to ADDRESS, from ACCOUNT's sender.

    ADDRESS must be in the account's test.recipients. Needs AMETRIKA_VERIFY_KEY.
    """
    from ametrika_gitops.mail.message import envelope_sender, message_bytes, utc_now
    from ametrika_gitops.mail.recipients import code_for, day_of, verify_key
    from ametrika_gitops.mail.transport import SendError, Session, endpoint_for
    from ametrika_gitops.mail.verification import verification_message

    key = verify_key()
    project, results = accounts_named(ctx.find_root(), (account,))
    acc = results[0].account
    if not gate(results) or acc is None:
        raise AmetrikaError(f"account {account} is not valid; fix the findings above")
    listed = [r for r in acc.recipients if r.lower() == address.lower()]
    if not listed:
        raise AmetrikaError(
            f"{address} is not in test.recipients of {acc.id}; add it there "
            "first (in a reviewed pull request)"
        )
    recipient = listed[0]  # as the account file writes it: the value validation checked
    now = utc_now()
    code = code_for(key, acc.id, recipient, day_of(now))
    data = message_bytes(verification_message(project, results[0], recipient, code, now))
    try:
        with Session(endpoint_for(acc)) as session:
            session.send(envelope_sender(acc), recipient, data)
    except SendError as exc:
        raise AmetrikaError(f"the code could not be sent: {exc}") from None
    click.echo(
        f"a code was sent to {address}; then: ametrika-gitops recipients confirm "
        f"{acc.id} {address} CODE"
    )
    return EXIT_OK


@recipients.command(name="confirm")
@click.argument("account", shell_complete=complete_accounts)
@click.argument("address")
@click.argument("code")
@click.pass_context
def recipients_confirm(ctx: click.Context, account: str, address: str, code: str) -> int:
    """Record ADDRESS as verified for ACCOUNT, given the CODE it received."""
    from ametrika_gitops.mail.recipients import code_is_valid, verify_key, write_record

    key = verify_key()
    project, acc = one_account(ctx, account)
    if not code_is_valid(key, acc.id, address, code):
        raise AmetrikaError(
            f"wrong or expired code for {address}; ask for a new one with "
            f"ametrika-gitops recipients verify {acc.id} {address}"
        )
    path = write_record(key, project.root, acc.id, address)
    click.echo(f"{address} is verified for {acc.id}: commit {display_path(path)}")
    return EXIT_OK


def _why_nothing(
    results: list[Checked],
    types: tuple[str, ...],
    locales: tuple[str, ...],
    changed_since: str | None,
) -> str:
    if changed_since:
        return f"nothing to send: no account's sender or e-mails changed since {changed_since}"
    valid = [r.account for r in results if r.account is not None]
    if locales:
        used = "; ".join(f"{a.id}: {', '.join(a.locales)}" for a in valid[:5])
        return f"nothing to send: no account uses locale {', '.join(locales)} ({used})"
    if types:
        return f"nothing to send: no selected account has e-mail type {', '.join(types)}"
    return "nothing to send: no valid account selected"


def _json(outcomes: list[Outcome]) -> str:
    """schemas/test-send.schema.json"""
    rows = sorted(outcomes, key=lambda o: (o.account, o.label, o.recipient))
    counts = {
        s: sum(o.status == s for o in outcomes) for s in ("sent", "captured", "failed", "skipped")
    }
    data = {
        "results": [
            {"account": o.account, "type": o.type_id or None, "locale": o.locale or None}
            | {k: v for k, v in asdict(o).items() if k not in ("account", "type_id", "locale")}
            for o in rows
        ],
        "counts": counts,
        "failed": counts["failed"] > 0,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


_RESULT = re.compile(r"(  )(sent|captured|FAILED at .*|skipped: .*)$")
_RESULT_STYLE = {"s": "ok", "c": "ok", "F": "error", "k": "warning"}


def _paint_result(line: str) -> str:
    m = _RESULT.search(line)
    if not m or line.startswith("account  "):
        return line
    word = m.group(2)
    kind = "warning" if word.startswith("skipped") else _RESULT_STYLE[word[0]]
    return line[: m.start(2)] + output.style(word, kind)
