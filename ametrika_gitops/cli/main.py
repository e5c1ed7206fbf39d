"""The command line: parse, call, render, map errors to exit codes. Nothing else lives here."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ametrika_gitops import __version__
from ametrika_gitops.cli import config, dns, mail, review
from ametrika_gitops.cli.common import EXIT_FAIL, EXIT_OK
from ametrika_gitops.errors import AmetrikaError

BUG_URL = "the ametrika-gitops issue tracker"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="ametrika-gitops")
@click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Repository root (the folder with templates/ and schemas/). "
    "Default: found from the current folder upwards.",
)
@click.pass_context
def cli(ctx: click.Context, root: Path | None) -> None:
    """Ametrika's e-mail settings as code.

    Account files in accounts/ declare how each account's standard e-mails are sent and how
    their templates read. Validate them, compile them into bundles, and plan the DNS records
    of the hosted e-mail service. Exit codes: 0 success, 1 invalid input or failure,
    2 (plan --detailed-exitcode) changes to make.
    """
    ctx.obj = root


for _command in (
    config.validate,
    config.compile_cmd,
    dns.plan,
    dns.apply,
    dns.adopt,
    mail.test_send,
    mail.recipients,
    review.verify,
    review.diff,
    review.history,
    review.codeowners,
    review.preview,
):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: every outcome becomes an exit code; no traceback reaches the user."""
    try:
        rv = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="ametrika-gitops",
            standalone_mode=False,
        )
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return EXIT_FAIL
    except click.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_FAIL
    except AmetrikaError as exc:
        click.echo(f"ametrika-gitops: error: {exc}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): not an error of ours
        return EXIT_FAIL
    except Exception as exc:  # the last line of defence
        if os.environ.get("AMETRIKA_GITOPS_DEBUG"):
            raise
        click.echo(
            f"ametrika-gitops: internal error ({exc.__class__.__name__}). This is a bug: "
            f"please report it to {BUG_URL} with the command you ran; set "
            "AMETRIKA_GITOPS_DEBUG=1 to see the traceback.",
            err=True,
        )
        return EXIT_FAIL
    return rv if isinstance(rv, int) else EXIT_OK
