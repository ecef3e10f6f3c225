"""`python run.py user token NAME [--revoke]`: a personal API token, printed once."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from application.cli_support import EXIT_BAD_INPUT, store_clock_or_exit
from application.commands.scheduler import DbOption, _who
from scheduler.store import Store


def user_token(name: str,
               revoke: Annotated[bool, typer.Option("--revoke", help="Revoke every token of NAME instead (scripts using them get 401).")] = False,
               by: Annotated[Optional[str], typer.Option("--by")] = None, db: DbOption = None) -> None:
    """Make a personal token for the API (/api/v1), printed once and stored only hashed; it acts
    with the account's role and channels. --revoke ends every token of the account."""
    # imported when a token is made: console.api's package imports FastAPI (~0.25 s of CPU), which
    # every other command would pay at start
    from console.api.tokens import TokenError, Tokens

    store = Store(db)
    tokens = Tokens(store.engine)
    now = store_clock_or_exit(store).now()
    if revoke:
        count = tokens.revoke(name)
        store.add_audit(now, _who(by), "token-revoke", name, f"{count} token{'s' if count != 1 else ''}")
        print(f"revoked {count} token{'s' if count != 1 else ''} of {name}")
        return
    try:
        token = tokens.issue(name, by=_who(by), now=now)
    except TokenError as error:
        print(str(error), file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    store.add_audit(now, _who(by), "token-add", name, token[:11] + "…")
    print(f"API token for {name} (shown once; keep it like a password, send it as `Authorization: Bearer TOKEN`):",
          file=sys.stderr)
    print(token)
