"""The `tariffkg` command line.

Exit codes: 0 success (or the data conforms), 1 validation found violations, 2 bad input, unreadable
files, an unreachable endpoint or any other error. Results go to stdout, diagnostics to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg.errors import TariffKGError

EXIT_VIOLATIONS = 1
EXIT_ERROR = 2


class TariffKGGroup(click.Group):
    """A click group that turns tariff-kg errors into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except TariffKGError as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"tariffkg: error: {error}", err=True)
            ctx.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("tariffkg: interrupted", err=True)
            ctx.exit(130)


@click.group(cls=TariffKGGroup)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(package_name="tariff-kg")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """tariff-kg: what duty applied to a product from an origin on a date, and why."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def progress_printer(label: str, count: int) -> None:
    """Report one finished build step on stderr."""
    click.echo(f"  {label}: {count:,} triples", err=True)


@main.command()
@click.option("--store", "store_root", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to keep the store in (default: the user data directory).")
@click.option("--force", is_flag=True, help="Rebuild even if a store for these sources exists.")
def build(store_root: Path | None, force: bool) -> None:
    """Compile ontology and data (the full HTS included) into the embedded store."""
    from kg.build import build_store, store_path

    path = store_path(store_root)
    click.echo(f"building {path}", err=True)
    build_store(path, progress=progress_printer, force=force)
    click.echo(str(path))


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle"]), default="text",
              show_default=True, help="Report format.")
def validate(files: tuple[Path, ...], fmt: str) -> None:
    """Validate the shipped graph, or FILES (Turtle) together with it, against the SHACL shapes."""
    from kg.validate import validate as run_validation

    report = run_validation(list(files))
    click.echo(report.render(fmt))
    sys.exit(0 if report.conforms else EXIT_VIOLATIONS)
