"""The text of a new account file, with a comment on every line a newcomer has to understand.

Pure: the command line collects the answers, this module writes the YAML, and says on which
line each answer landed so that a finding there can be reported against the option that
gave it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import cast

import yaml

from ametrika_gitops.config.model import DEFAULT_PORTS, Security

MODES = ("ametrika", "analytics-report", "smtp", "hosted")
SECURITIES = ("ssl-tls", "starttls", "none")
PROVIDERS = ("manual", "cloudflare")
COMMENT_COLUMN = 34

# What each mode cannot do without; everything else has a default.
REQUIRED: dict[str, tuple[str, ...]] = {
    "ametrika": ("name", "admins", "locales"),
    "analytics-report": ("name", "admins", "locales"),
    "smtp": ("name", "admins", "locales", "smtp_host", "smtp_username", "from_address"),
    "hosted": ("name", "admins", "locales", "domain", "from_address"),
}
# Fields that only make sense in one mode.
MODE_OF_FIELD = {
    "smtp_host": "smtp",
    "smtp_port": "smtp",
    "smtp_security": "smtp",
    "smtp_username": "smtp",
    "smtp_password_env": "smtp",
    "domain": "hosted",
    "dns_provider": "hosted",
    "zone": "hosted",
    "verification": "hosted",
    "click_tracking": "hosted",
}


@dataclass(frozen=True)
class NewAccount:
    id: str
    mode: str
    name: str = ""
    admins: tuple[str, ...] = ()
    locales: tuple[str, ...] = ()
    from_name: str = ""  # default: name
    reply_to: str = ""
    recipients: tuple[str, ...] = ()
    from_address: str = ""
    smtp_host: str = ""
    smtp_port: int | None = None  # default: by security
    smtp_security: str = ""  # default: ssl-tls
    smtp_username: str = ""
    smtp_password_env: str = ""  # default: <ID>_SMTP_PASSWORD
    domain: str = ""
    dns_provider: str = ""  # default: manual
    zone: str = ""
    verification: str = ""
    click_tracking: bool = False

    @property
    def security(self) -> str:
        return self.smtp_security or "ssl-tls"

    @property
    def port(self) -> int:
        return self.smtp_port or DEFAULT_PORTS[cast(Security, self.security)]

    @property
    def password_env(self) -> str:
        return self.smtp_password_env or default_password_env(self.id)

    @property
    def provider(self) -> str:
        return self.dns_provider or "manual"


def default_password_env(account_id: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", account_id.upper()).strip("_") + "_SMTP_PASSWORD"


def missing(spec: NewAccount) -> list[str]:
    """The required fields of the spec's mode that are still empty."""
    return [f for f in REQUIRED[spec.mode] if not getattr(spec, f)]


def misplaced(spec: NewAccount) -> list[str]:
    """Fields given for another mode than the spec's (an --smtp-host on a hosted account)."""
    return [
        f
        for f, mode in MODE_OF_FIELD.items()
        if mode != spec.mode and getattr(spec, f) not in ("", None, False)
    ]


_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._+@/-]*")


def scalar(value: str) -> str:
    """``value`` as a YAML scalar: plain when YAML reads it back unchanged, else JSON-quoted
    (a JSON string is a valid YAML double-quoted scalar, escapes included)."""
    if _PLAIN.fullmatch(value) and not value.endswith(" "):
        try:
            if yaml.safe_load(value) == value:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False)


def flow(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(scalar(v) for v in values) + "]"


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.fields: dict[int, str] = {}

    def add(self, text: str, comment: str = "", field: str = "") -> None:
        if comment:
            pad = max(COMMENT_COLUMN - len(text), 2)
            text = f"{text}{' ' * pad}# {comment}"
        self.lines.append(text)
        if field:
            self.fields[len(self.lines)] = field  # 1-based, like the findings


def account_text(spec: NewAccount) -> tuple[str, dict[int, str]]:
    """The file's text, and which field of ``spec`` each line holds (line number → field)."""
    w = _Writer()
    w.add("# yaml-language-server: $schema=../schemas/account.schema.json")
    w.add(f"# Account {spec.id}, written by `ametrika-gitops new`. Your editor shows what each")
    w.add("# key means through the line above (schemas/account.schema.json); the README's")
    w.add('# "Add an account" section has the next steps.')
    w.add("version: 1", "the format of this file; always 1")
    w.add("account:")
    w.add(f"  id: {scalar(spec.id)}", "equal to the file name", "id")
    w.add(f"  name: {scalar(spec.name)}", "the account's display name", "name")
    w.add(f"  admins: {flow(spec.admins)}", "GitHub users or teams who approve changes", "admins")
    w.add(
        f"  locales: {flow(spec.locales)}",
        "languages of the e-mails; the first is the default",
        "locales",
    )
    w.add("sender:")
    w.add(f"  mode: {spec.mode}", "ametrika | analytics-report | smtp | hosted", "mode")
    w.add(
        f"  from_name: {scalar(spec.from_name or spec.name)}",
        "the sender's display name, one line",
        "from_name",
    )
    if spec.reply_to:
        w.add(f"  reply_to: {scalar(spec.reply_to)}", "where replies go", "reply_to")
    if spec.mode == "ametrika":
        w.add("  # e-mails leave from no-reply@ametrika.com")
    elif spec.mode == "analytics-report":
        w.add("  # white label: e-mails leave from no-reply@analytics-report.com, and nothing")
        w.add("  # in them may name Ametrika")
    elif spec.mode == "smtp":
        _smtp(w, spec)
    else:
        _hosted(w, spec)
    w.add("test:")
    if spec.recipients:
        w.add(
            f"  recipients: {flow(spec.recipients)}",
            "test e-mails go only to these, once verified",
            "recipients",
        )
    else:
        w.add("  recipients: []", "test e-mails go only to these, once verified", "recipients")
    w.add("# templates:                        # overrides of the originals, per type and locale")
    w.add("#   insights:")
    w.add(f"#     {spec.locales[0] if spec.locales else 'en'}:")
    w.add('#       subject: "Insights: {{ period.label }}"')
    return "\n".join(w.lines) + "\n", w.fields


def _smtp(w: _Writer, spec: NewAccount) -> None:
    w.add("  smtp:", "the account's own mail server")
    w.add(f"    host: {scalar(spec.smtp_host)}", "", "smtp_host")
    w.add(
        f"    security: {spec.security}",
        "ssl-tls (implicit TLS) | starttls | none (avoid)",
        "smtp_security",
    )
    w.add(f"    port: {spec.port}", "465 for ssl-tls; 587 (or 25) for starttls", "smtp_port")
    w.add(f"    username: {scalar(spec.smtp_username)}", "", "smtp_username")
    w.add(
        f"    password: {{env: {scalar(spec.password_env)}}}",
        "a CI secret's name, never the password",
        "smtp_password_env",
    )
    w.add(
        f"    from_address: {scalar(spec.from_address)}",
        "the sender address on this server",
        "from_address",
    )


def _hosted(w: _Writer, spec: NewAccount) -> None:
    w.add("  hosted:", "Ametrika's service on your own domain")
    w.add(f"    domain: {scalar(spec.domain)}", "the sending domain (punycode if IDN)", "domain")
    w.add(
        f"    from_address: {scalar(spec.from_address)}",
        "in the sending domain or below it",
        "from_address",
    )
    if spec.verification:
        w.add(
            f"    verification: {scalar(spec.verification)}",
            "the platform's ownership token",
            "verification",
        )
    else:
        w.add(
            "    # verification: TOKEN              # the ownership token, once the platform gives it"
        )
    if spec.click_tracking:
        w.add("    click_tracking: true", "adds the links.<domain> CNAME", "click_tracking")
    w.add("    dns:")
    w.add(
        f"      provider: {spec.provider}",
        "manual: records for your DNS admin; cloudflare: applied",
        "dns_provider",
    )
    if spec.zone:
        w.add(f"      zone: {scalar(spec.zone)}", "the zone that holds the domain", "zone")


WORKFLOW = ".github/workflows/test-send.yml"
SECRET_MARKER = "# One line per custom SMTP account"
_ENV_LINE = re.compile(r"^(\s+)[A-Z][A-Z0-9_]*: \$\{\{ secrets\.[A-Z0-9_]+ \}\}\s*$")


def secret_line(variable: str) -> str:
    return f"{variable}: ${{{{ secrets.{variable} }}}}"


def with_secret(workflow: str, variable: str) -> str | None:
    """The test-send workflow with ``variable`` passed from the secrets of its environment,
    after the lines that follow the marker comment; None when the marker is not there (the
    file was rewritten by hand: the command then says which line to add)."""
    lines = workflow.splitlines(keepends=True)
    marker = next((i for i, line in enumerate(lines) if SECRET_MARKER in line), None)
    if marker is None:
        return None
    indent = lines[marker][: len(lines[marker]) - len(lines[marker].lstrip())]
    end = marker + 1
    while end < len(lines) and _ENV_LINE.match(lines[end]):
        end += 1
    if any(re.match(rf"\s+{re.escape(variable)}:", line) for line in lines):
        return workflow  # already passed
    return "".join([*lines[:end], f"{indent}{secret_line(variable)}\n", *lines[end:]])
