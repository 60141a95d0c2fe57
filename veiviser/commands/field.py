"""Field staff commands: serve the field workers' page and API."""

from __future__ import annotations

import click
from rich.console import Console

from services.field.errors import FieldError
from veiviser.commands._groups import subgroup
from veiviser.settings import Settings

ERRORS = (FieldError,)
console = Console()


@click.command(name="field", help="Run the field staff page and API (needs VEIVISER_FIELD_TOKENS).")
@click.option("--host", default=None, help="Listen address (default VEIVISER_FIELD_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default VEIVISER_FIELD_PORT or 8083).")
@click.pass_obj
def serve_field(settings: Settings, host: str | None, port: int | None) -> None:
    import uvicorn

    from services.field import build, load_field_settings

    field_settings = load_field_settings()
    app, close = build(settings, field_settings)
    host, port = host or field_settings.field_host, port or field_settings.field_port
    console.print(f"field staff page on http://{host}:{port}/ (API: /openapi.json, metrics: /metrics)")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        close()


def register(cli: click.Group, bench: click.Group) -> None:
    subgroup(cli, "serve", "Run a Veiviser service.").add_command(serve_field)
