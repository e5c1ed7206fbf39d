"""new: write an account file that validates, update CODEOWNERS, and say what comes next."""

from __future__ import annotations

import dataclasses
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, cast

import click

from ametrika_gitops.check.pipeline import Checked, all_diagnostics, check_file
from ametrika_gitops.check.project import ACCOUNTS, Project, display_path
from ametrika_gitops.check.rules.account import ID_RE
from ametrika_gitops.cli import output
from ametrika_gitops.cli.common import EXIT_FAIL, EXIT_OK, check_with_progress, open_project
from ametrika_gitops.config import scaffold
from ametrika_gitops.config.model import DEFAULT_PORTS, Security
from ametrika_gitops.config.scaffold import MODES, PROVIDERS, SECURITIES, NewAccount
from ametrika_gitops.errors import AmetrikaError

# field of NewAccount → (option, prompt)
OPTIONS: dict[str, tuple[str, str]] = {
    "id": ("ID", ""),
    "mode": ("--mode", "Sender mode"),
    "name": ("--name", "Account name, as the e-mails show it"),
    "admins": ("--admin", "Admins: GitHub @user or @org/team, separated by spaces"),
    "locales": ("--locale", "Locales, the default first"),
    "from_name": ("--from-name", "Sender's display name"),
    "reply_to": ("--reply-to", "Reply-To address"),
    "recipients": ("--recipient", "Test recipients"),
    "from_address": ("--from-address", "Sender address"),
    "smtp_host": ("--smtp-host", "SMTP server (host name)"),
    "smtp_port": ("--smtp-port", "SMTP port"),
    "smtp_security": ("--smtp-security", "SMTP security"),
    "smtp_username": ("--smtp-username", "SMTP user name"),
    "smtp_password_env": ("--smtp-password-env", "Name of the password's CI secret"),
    "domain": ("--domain", "Sending domain (for example mail.example.com)"),
    "dns_provider": ("--dns-provider", "DNS provider"),
    "zone": ("--zone", "DNS zone"),
    "verification": ("--verification", "Ownership token"),
    "click_tracking": ("--click-tracking", "Click tracking"),
}
LISTS = ("admins", "locales", "recipients")
ROUNDS = 5  # on a terminal, how many times options with errors are asked again


def can_prompt() -> bool:
    return sys.stdin.isatty()


@click.command()
@click.argument("account_id", metavar="ID")
@click.option("--mode", type=click.Choice(MODES), help="How the e-mails are sent.")
@click.option("--name", help="The account's display name.")
@click.option(
    "--admin", "admins", multiple=True, help="GitHub @user or @org/team who approves (repeatable)."
)
@click.option("--locale", "locales", multiple=True, help="E-mail locale; the first is the default.")
@click.option("--from-name", help="Sender's display name. Default: --name.")
@click.option("--reply-to", help="Reply-To address (optional).")
@click.option("--recipient", "recipients", multiple=True, help="Test recipient (repeatable).")
@click.option("--from-address", help="Sender address (smtp, hosted).")
@click.option("--smtp-host", help="smtp: the server's host name.")
@click.option("--smtp-port", type=click.IntRange(1, 65535), help="smtp: default by security.")
@click.option("--smtp-security", type=click.Choice(SECURITIES), help="smtp: default ssl-tls.")
@click.option("--smtp-username", help="smtp: user name for AUTH.")
@click.option(
    "--smtp-password-env",
    metavar="VARIABLE",
    help="smtp: the CI secret holding the password. Default: <ID>_SMTP_PASSWORD.",
)
@click.option("--domain", help="hosted: the sending domain.")
@click.option("--dns-provider", type=click.Choice(PROVIDERS), help="hosted: default manual.")
@click.option("--zone", help="hosted: the DNS zone (default: found from the domain).")
@click.option("--verification", metavar="TOKEN", help="hosted: the platform's ownership token.")
@click.option("--click-tracking", is_flag=True, help="hosted: add the click-tracking record.")
@click.pass_context
def new(ctx: click.Context, /, account_id: str, **given: Any) -> int:
    """Write accounts/ID.yaml for a new account, then update CODEOWNERS and say what to do next.

    Each mode needs: every mode --name, --admin, --locale; smtp also --smtp-host,
    --smtp-username, --from-address; hosted also --domain, --from-address. On a terminal,
    what is missing is asked; elsewhere it is an error naming the missing options. Nothing
    is written unless the new file validates.
    """
    project = open_project(ctx)
    target = project.root / ACCOUNTS / f"{account_id}.yaml"
    _check_id(account_id, target)
    interactive = can_prompt()
    given = {k: "" if v is None and k != "smtp_port" else v for k, v in given.items()}
    for field in LISTS:  # --locale en,fr is --locale en --locale fr
        given[field] = tuple(x for v in given[field] for x in re.split(r"[\s,]+", v) if x)
    mode = given.pop("mode") or _ask_mode(interactive)
    spec = NewAccount(id=account_id, mode=mode, **given)
    wrong = scaffold.misplaced(spec)
    if wrong:
        names = ", ".join(OPTIONS[f][0] for f in wrong)
        them = "them" if len(wrong) > 1 else "it"
        raise AmetrikaError(f"{names}: not used in mode {mode}; leave {them} out")
    spec = _complete(spec, project, interactive)
    for _ in range(ROUNDS):
        text, fields = scaffold.account_text(spec)
        checked = _validate(project, spec, text)
        wrong_fields = _report(checked, fields)
        if checked.account is not None:
            break
        if not interactive or not wrong_fields or "id" in wrong_fields:
            click.echo("the account was not written; fix the options above", err=True)
            return EXIT_FAIL
        if "smtp_port" in wrong_fields and "smtp_security" not in wrong_fields:
            # port and security go together: ask the security first, then the port
            wrong_fields.insert(wrong_fields.index("smtp_port"), "smtp_security")
        click.echo("Please answer again:", err=True)
        spec = dataclasses.replace(spec, **_ask(wrong_fields, spec, project))
    else:
        click.echo("the account was not written", err=True)
        return EXIT_FAIL
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("x", encoding="utf-8") as f:  # "x": never overwrite
        f.write(text)
    click.echo(f"wrote {display_path(target)} ({mode})")
    changed = [display_path(target)]
    changed += _codeowners(project)
    if mode == "smtp":
        changed += _workflow(project, spec)
    assert checked.account is not None
    click.echo("")
    click.echo(_next_steps(spec, checked, project, changed))
    return EXIT_OK


def _check_id(account_id: str, target: Path) -> None:
    if not ID_RE.match(account_id):
        suggestion = re.sub(r"[^a-z0-9-]+", "-", account_id.lower()).strip("-")[:63]
        example = suggestion if ID_RE.match(suggestion) else "acme-france"
        raise AmetrikaError(
            f"'{account_id}' cannot be an account id: 2–63 lower-case letters, digits or "
            f"hyphens, starting with a letter or digit; for example {example}"
        )
    if target.exists():
        raise AmetrikaError(f"{display_path(target)} already exists; edit it, or choose another id")


def _ask_mode(interactive: bool) -> str:
    if not interactive:
        raise AmetrikaError(f"missing option --mode (one of {', '.join(MODES)})")
    click.echo(
        "Sender modes: ametrika (from no-reply@ametrika.com), analytics-report (white label, "
        "from no-reply@analytics-report.com), smtp (your own mail server), hosted (Ametrika's "
        "service on your own domain; needs DNS records)",
        err=True,
    )
    return str(click.prompt("Sender mode", type=click.Choice(MODES), err=True))


def _complete(spec: NewAccount, project: Project, interactive: bool) -> NewAccount:
    """Ask for what the mode needs and was not given (on a terminal), else refuse."""
    absent = scaffold.missing(spec)
    if not absent:
        return spec
    if not interactive:
        names = ", ".join(OPTIONS[f][0] for f in absent)
        raise AmetrikaError(
            f"missing for mode {spec.mode}: {names} (run it on a terminal to be asked)"
        )
    return dataclasses.replace(spec, **_ask(absent, spec, project))


def _ask(fields: list[str], spec: NewAccount, project: Project) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for field in fields:
        label = OPTIONS[field][1]
        default: str | None = None
        kind: Any = None
        if field == "locales":
            label += f" ({', '.join(project.catalog.locales)})"
            default = project.catalog.locales[0]
        elif field == "from_address" and (spec.domain or answers.get("domain")):
            default = f"reports@{answers.get('domain') or spec.domain}"
        elif field == "smtp_port":
            kind = click.IntRange(1, 65535)
            default = str(
                DEFAULT_PORTS[cast(Security, answers.get("smtp_security") or spec.security)]
            )
        elif field == "smtp_security":
            kind = click.Choice(SECURITIES)
        elif field == "dns_provider":
            kind = click.Choice(PROVIDERS)
        value = click.prompt(label, default=default, type=kind, err=True)
        if field in LISTS:
            answers[field] = tuple(x for x in re.split(r"[\s,]+", str(value)) if x)
        else:
            answers[field] = value.strip() if isinstance(value, str) else value
    return answers


def _validate(project: Project, spec: NewAccount, text: str) -> Checked:
    """The whole pipeline on the text, in a temporary folder: what validate would say."""
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / f"{spec.id}.yaml"
        file.write_text(text, encoding="utf-8")
        return check_file(project, file)


def _report(checked: Checked, fields: dict[int, str]) -> list[str]:
    """Print the findings against the option that gave the value; the fields with an error
    (all of them known, or an empty list)."""
    wrong: list[str] = []
    unknown = False
    for d in all_diagnostics([checked]):
        field = fields.get(d.line)
        option = OPTIONS[field][0] if field else f"line {d.line}"
        msg = f"{d.message}; {d.hint}" if d.hint else d.message
        sev = output.style(d.severity, d.severity)
        click.echo(f"{option}: {sev}[{d.code}]: {msg}", err=True)
        if d.is_error:
            unknown |= field is None
            if field and field not in wrong:
                wrong.append(field)
    return [] if unknown else wrong


def _codeowners(project: Project) -> list[str]:
    from ametrika_gitops.check.project import account_files
    from ametrika_gitops.review import codeowners as co

    results = check_with_progress(project, account_files((), project.root), "checking")
    invalid = [r.path for r in results if r.account is None]
    if invalid:
        output.info(
            f"{co.FILE} not updated: {len(invalid)} other account file"
            f"{'s' if len(invalid) != 1 else ''} do not validate ({', '.join(invalid[:3])}"
            f"{', …' if len(invalid) > 3 else ''}); fix them, then run `ametrika-gitops codeowners`"
        )
        return []
    target = project.root / co.FILE
    wanted = co.generate(results, project.catalog.owners)
    if target.exists() and target.read_text(encoding="utf-8") == wanted:
        return []
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(wanted, encoding="utf-8")
    click.echo(f"updated {display_path(target)}")
    return [display_path(target)]


def _workflow(project: Project, spec: NewAccount) -> list[str]:
    path = project.root / scaffold.WORKFLOW
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    updated = scaffold.with_secret(text, spec.password_env)
    if updated is None:
        click.echo(
            f"{display_path(path)}: add this line to the env of its job, so that test sends "
            f"can log in: {scaffold.secret_line(spec.password_env)}"
        )
        return []
    if updated == text:
        return []
    path.write_text(updated, encoding="utf-8")
    click.echo(f"updated {display_path(path)}: passes the secret {spec.password_env}")
    return [display_path(path)]


def _next_steps(spec: NewAccount, checked: Checked, project: Project, changed: list[str]) -> str:
    from ametrika_gitops.dns.records import desired_records, zone_guess

    account = checked.account
    assert account is not None
    steps: list[list[str]] = []
    if spec.mode == "smtp":
        secret = (
            f"Add the secret {spec.password_env} (the password of {spec.smtp_username} on "
            f"{spec.smtp_host}) to the GitHub environment test-sends: Settings → "
            "Environments → test-sends → Add secret. Never write it in the account file."
        )
        steps.append([secret])
    if account.sender.hosted is not None:
        records = [f"Publish these DNS records in the zone {zone_guess(account)}:"]
        for r in desired_records(account):
            content = f'"{r.content}"' if r.type == "TXT" else r.content
            records.append(
                f"    {r.type:<5} {r.name}  {content}"
                + (f"  ({r.condition})" if r.condition else "")
            )
        if account.sender.hosted.provider == "manual":
            records.append(
                "Hand them to whoever administers the DNS; zone-file lines to paste: "
                f"ametrika-gitops plan --format zone {spec.id}"
            )
        else:
            records.append(
                "Once the pull request is merged, the apply workflow adds them to Cloudflare; "
                f"see what it will do: ametrika-gitops plan {spec.id}"
            )
        if not account.sender.hosted.verification:
            records.append(
                "When the platform gives you the domain's ownership token, add it as "
                "hosted.verification: it adds one TXT record."
            )
        records.append(f"Once they are published, check them: ametrika-gitops verify {spec.id}")
        steps.append(records)
    owners = " ".join(project.catalog.owners) or "the platform's owners"
    if account.recipients:
        who = f"someone who holds AMETRIKA_VERIFY_KEY (the CI secret; ask {owners})"
        verify = [f"Have each test recipient verified by {who}:"]
        verify += [
            f"    ametrika-gitops recipients verify {spec.id} {r}" for r in account.recipients
        ]
        verify.append(
            "then, with the code the address received: ametrika-gitops recipients confirm "
            f"{spec.id} ADDRESS CODE, and commit recipients/{spec.id}.yaml."
        )
        steps.append(verify)
        capture = f"ametrika-gitops test-send {spec.id} --capture captures/"
        steps.append([f"See the test e-mails without sending them: {capture}"])
    else:
        later = (
            "To receive test e-mails, list addresses under test.recipients, then have them "
            f"verified (ametrika-gitops recipients verify {spec.id} ADDRESS; ask {owners})."
        )
        steps.append([later])
    steps.append([f"Commit and open a pull request: git add {' '.join(changed)}"])
    out = [output.style("Next steps:", "heading")]
    for i, lines in enumerate(steps, 1):
        out.append(f"  {i}. {lines[0]}")
        out += [f"     {line}" for line in lines[1:]]
    return "\n".join(out)
