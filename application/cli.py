"""The one CLI: `python run.py COMMAND`. Each command lives in the module of the part it drives."""

from __future__ import annotations

import typer

from application import demo
from application.commands import assets as assets_commands
from application.commands import console as console_commands
from application.commands import plan as plan_commands
from application.commands import render_queue as render_queue_commands
from application.commands import results as results_commands
from application.commands import scheduler as scheduler_commands
from application.commands import subtitles as subtitle_commands
from application.commands import validate

app = typer.Typer(
    name="run.py",
    help="Embracing Openness: validate the campaign calendar, render branded assets, plan and publish posts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)



@app.callback()
def _root() -> None:
    """Embracing Openness: validate the campaign calendar, render branded assets, plan and publish posts."""


# Each module registers its commands on `app` (one module per part: application/commands/<part>.py).
for _module in (validate, demo, plan_commands, assets_commands, scheduler_commands, subtitle_commands, render_queue_commands,
                results_commands, console_commands):
    _module.register(app)


def main() -> None:
    app()
