"""The command line: parse, call, render, map errors to exit codes. Nothing else lives here."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ametrika_gitops import __version__
from ametrika_gitops.cli import config, dns, mail, new, output, review
from ametrika_gitops.cli.common import EXIT_FAIL, EXIT_OK
from ametrika_gitops.errors import AmetrikaError

BUG_URL = "the ametrika-gitops issue tracker"


def _output_options() -> list[click.Option]:
    """--color/--no-color, --quiet, --verbose: accepted before the command and after it."""
    return [
        click.Option(
            ["--color/--no-color"],
            default=None,
            expose_value=False,
            is_eager=True,
            callback=output.set_color,
            help="Colour on a terminal (default), or never; NO_COLOR=1 also turns it off.",
        ),
        click.Option(
            ["-q", "--quiet"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=output.set_quiet,
            help="Only results and findings: no summary, no progress.",
        ),
        click.Option(
            ["-v", "--verbose"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=output.set_verbose,
            help="Also say what is read and written, file by file.",
        ),
    ]


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

    Name an account by its id (acme) or its file (accounts/acme.yaml), in every command.
    Shell completion: eval "$(_AMETRIKA_GITOPS_COMPLETE=bash_source ametrika-gitops)"
    (zsh_source, fish_source for those shells).
    """
    ctx.obj = root


cli.params += _output_options()

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
    new.new,
):
    cli.add_command(_command)


def _add_output_options(command: click.Command) -> None:
    command.params += _output_options()
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_output_options(sub)


for _command in cli.commands.values():
    _add_output_options(_command)


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
        # outside the command's context now: honour NO_COLOR and --no-color by hand
        color = False if output.no_color_env() or "--no-color" in (argv or sys.argv) else None
        label = click.style("error", **output.STYLES["error"])  # type: ignore[arg-type]
        click.echo(f"ametrika-gitops: {label}: {exc}", err=True, color=color)
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
