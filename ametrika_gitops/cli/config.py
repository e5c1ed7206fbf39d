"""validate and compile: the account files, checked and built."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from ametrika_gitops.check.pipeline import all_diagnostics
from ametrika_gitops.check.project import display_path
from ametrika_gitops.cli import output
from ametrika_gitops.cli.common import (
    EXIT_FAIL,
    EXIT_OK,
    PATHS,
    check_paths,
    gate,
    summary,
)
from ametrika_gitops.diagnostics import has_errors, render

DEFAULT_OUT = "bundles"  # not build/: setuptools writes its own build/ there on `pip install .`


@click.command()
@PATHS
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text: path:line:col lines; json: objects (schemas/findings.schema.json); "
    "github: workflow annotations.",
)
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.pass_context
def validate(ctx: click.Context, paths: tuple[Path, ...], fmt: str, strict: bool) -> int:
    """Check account files (default: accounts/) against the schema and the rules.

    Name accounts by id (acme) or path (accounts/acme.yaml, or a folder). Every finding is
    reported at file:line:col with a fix. Exit 1 on any error (or any warning with --strict).
    """
    _, results = check_paths(ctx, paths, "validate")
    diags = all_diagnostics(results)
    text = render(diags, fmt)
    if fmt == "text":
        # findings are the result here: stdout, painted only on a terminal
        click.echo(output.paint_findings(text), nl=False)
    elif text:
        click.echo(text, nl=False)
    output.info(summary(results))
    return EXIT_FAIL if has_errors(diags, strict) else EXIT_OK


@click.command(name="compile")
@PATHS
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Folder for the bundles and manifest.json. Default: {DEFAULT_OUT}/ in the repository.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: what was written (schemas/compile.schema.json).",
)
@click.pass_context
def compile_cmd(ctx: click.Context, paths: tuple[Path, ...], out: Path | None, fmt: str) -> int:
    """Validate, then write one deterministic bundle per account and a manifest.

    A bundle holds the resolved sender, every template (its source, origin and rendered
    sample) and the DNS record set. Nothing is written unless every account is valid.
    """
    from ametrika_gitops.build.write import MANIFEST, write_bundles

    project, results = check_paths(ctx, paths, "compile: checking")
    if not gate(results):
        return EXIT_FAIL
    folder = out if out is not None else project.root / DEFAULT_OUT
    tick = output.progress("compile: writing", len(results), "bundles")
    written = write_bundles(results, folder, tick)
    tick.finish()
    for w in written:
        output.detail(f"wrote {display_path(folder / w.bundle)}")
    if fmt == "json":
        data = {
            "out": display_path(folder),
            "manifest": MANIFEST,
            "accounts": [asdict(w) for w in written],
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return EXIT_OK
    for w in written:
        click.echo(w.line)
    click.echo(f"wrote {len(written)} bundles and {MANIFEST} to {display_path(folder)}")
    return EXIT_OK
