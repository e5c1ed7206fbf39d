"""validate and compile: the account files, checked and built."""

from __future__ import annotations

from pathlib import Path

import click

from ametrika_gitops.check.pipeline import all_diagnostics
from ametrika_gitops.cli.common import EXIT_FAIL, EXIT_OK, PATHS, check_paths, gate, summary
from ametrika_gitops.diagnostics import has_errors, render


@click.command()
@PATHS
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text: path:line:col lines; json: objects; github: workflow annotations.",
)
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.pass_context
def validate(ctx: click.Context, paths: tuple[Path, ...], fmt: str, strict: bool) -> int:
    """Check account files (default: accounts/) against the schema and the rules.

    Every finding is reported at file:line:col with a fix. Exit 1 on any error (or any
    warning with --strict).
    """
    _, results = check_paths(ctx, paths)
    diags = all_diagnostics(results)
    output = render(diags, fmt)
    if output:
        click.echo(output, nl=False)
    click.echo(summary(results), err=True)
    return EXIT_FAIL if has_errors(diags, strict) else EXIT_OK


@click.command(name="compile")
@PATHS
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build"),
    show_default=True,
    help="Folder for the bundles and manifest.json.",
)
@click.pass_context
def compile_cmd(ctx: click.Context, paths: tuple[Path, ...], out: Path) -> int:
    """Validate, then write one deterministic bundle per account and a manifest.

    A bundle holds the resolved sender, every template (its source, origin and rendered
    sample) and the DNS record set. Nothing is written unless every account is valid.
    """
    from ametrika_gitops.build.write import write_bundles

    _, results = check_paths(ctx, paths)
    if not gate(results):
        return EXIT_FAIL
    for line in write_bundles(results, out):
        click.echo(line)
    return EXIT_OK
