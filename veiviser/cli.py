"""`veiviser`: the one command-line front door.

Each concern registers its commands from its own module (veiviser/commands/*.py); this file only
reads the settings once, wires the groups together and turns known errors into a clear message and
exit status 2 instead of a traceback.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console

from veiviser.settings import SettingsError, load_settings

__all__ = ["main", "cli"]

err_console = Console(stderr=True)


@click.group(help="Veiviser: event-driven follow-up routing for NAV.")
@click.pass_context
def cli(ctx: click.Context) -> None:
    ctx.obj = load_settings()


@cli.group(help="Benchmarks: figures next to a raw baseline measured in the same run.")
def bench() -> None:
    pass


def _register() -> None:
    from veiviser.commands import register_all

    register_all(cli, bench)


def _known_errors() -> tuple[type[BaseException], ...]:
    from veiviser.commands import known_errors

    return (SettingsError, *known_errors())


def main(argv: list[str] | None = None) -> None:
    _register()
    try:
        cli.main(args=argv, prog_name="veiviser", standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except _known_errors() as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
