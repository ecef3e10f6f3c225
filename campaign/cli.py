"""The one CLI: `python run.py COMMAND`. Each command lives in the module of the part it drives."""

from __future__ import annotations

import importlib

import typer

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


# Each module registers its commands on `app` when imported (keeps every part's CLI beside its code).
COMMAND_MODULES = [
    "campaign.commands",
    "campaign.demo",
    "scheduler.plan.commands",
    "assets.commands",
    "scheduler.commands",
    "scheduler.subtitle_commands",
    "scheduler.render_queue.commands",
    "scheduler.results.commands",
    "console.commands",
]

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    app()
