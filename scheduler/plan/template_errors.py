"""Every way a template can fail, as one `TemplateError` saying `file:LINE: what — fix`.

Captions and the preview page come from a calendar's folder, so their mistakes are a
manager's or designer's to fix: they get the template's own line, never a traceback.
"""

from __future__ import annotations

import re
import traceback
from contextlib import contextmanager
from typing import Iterator

from jinja2 import TemplateError as JinjaTemplateError
from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError

from campaign.errors import TemplateError
from scheduler.plan.template_limits import TemplateLimitError, TemplateOutsideError, TemplateRecursionError


@contextmanager
def reported_as(shown: str, filename: str, *, variables: tuple[str, ...], folder: str) -> Iterator[None]:
    """Turn any failure of compiling or rendering the template at `filename` into a `TemplateError`.

    `shown` is how the file is named in messages, `variables` the names a template may use,
    `folder` where an included template would have to be."""
    try:
        yield
    except TemplateSyntaxError as error:
        raise TemplateError(f"{shown}:{error.lineno}: template syntax error: {error.message} — fix the template") from None
    except UndefinedError as error:
        variable = _variable_name(str(error.message or error))
        raise TemplateError(f"{shown}:{_line(error, filename)}: undefined variable `{variable}` — the variables "
                            f"templates can use are {', '.join(variables)}") from None
    except SecurityError as error:
        raise TemplateError(f"{shown}:{_line(error, filename)}: the template does something unsafe ({error}) — use "
                            "only the template variables and filters") from None
    except TemplateNotFound as error:  # an {% include %} of a missing file
        raise TemplateError(f"{shown}: included template {error.name} not found — create it in {folder}") from None
    except TemplateOutsideError as error:
        raise TemplateError(f"{shown}: {error}") from None
    except TemplateLimitError as error:
        line = error.line or _line(error, filename)
        raise TemplateError(f"{shown}:{line}: {error} — remove the loop, repetition or number that makes it so large") from None
    except RecursionError as error:
        line = _line(error, filename, callers=isinstance(error, TemplateRecursionError))
        raise TemplateError(f"{shown}:{line}: the template calls itself without end (a macro or "
                            "include that recurses) — remove the recursion") from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as error:
        raise TemplateError(f"{shown}:{_line(error, filename)}: {error} — fix the expression on that line") from None
    except JinjaTemplateError as error:  # the rest of Jinja's own errors (TemplateRuntimeError, ...)
        raise TemplateError(f"{shown}:{_line(error, filename)}: {error} — fix the template") from None


def _line(error: BaseException, filename: str, callers: bool = False) -> int | str:
    """Jinja rewrites tracebacks so template frames carry the template's file and line: the
    innermost one, or with `callers` the one that made the last call (it failed on entry)."""
    lines = [lineno for frame, lineno in traceback.walk_tb(error.__traceback__) if frame.f_code.co_filename == filename]
    if callers and len(lines) > 1:
        return lines[-2]
    return lines[-1] if lines else "?"


def _variable_name(message: str) -> str:
    match = re.search(r"'([^']+)' is undefined", message) or re.search(r"has no attribute '([^']+)'", message)
    return match.group(1) if match else message
