"""A Jinja2 sandbox that also bounds time, memory and recursion, for templates a calendar
folder supplies (captions and the preview page).

Jinja's `SandboxedEnvironment` stops a template reaching Python internals
(`cycler.__init__.__globals__`), but not one that loops `range(10**8)`, builds
`"x" * 10**9`, pads with `|center(10**9)` or recurses: those hang the daemon, eat the
machine's memory or end in a traceback. Here the numbers that size what a template builds
(`range`, padding and wrapping widths, repetition, powers) are bounded, so is every string or
list it builds, output is streamed and cut at `MAX_OUTPUT` characters, and
a deadline is checked on every line the template executes (a trace hook on the template's
own frames only, so the tool's code runs untraced). Any breach is a `TemplateLimitError`
naming the limit; the caller adds `file:LINE:`.
"""

from __future__ import annotations

import functools
import operator
import os
import re
import resource
import sys
import time
from typing import Any, Callable, Iterator

from jinja2 import FileSystemLoader, Template, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import SandboxedEnvironment

MAX_OUTPUT = 100_000  # characters; the longest caption any platform takes is 63,206 (Facebook)
MAX_NUMBER = 10_000  # largest number passed to a filter, function or range (widths, counts)
MAX_SEQUENCE = 100_000  # longest string or list an operator may build
MAX_SECONDS = 2.0  # one caption renders in well under a millisecond
MAX_NESTING = 100  # macros and includes calling each other
MAX_MEMORY_GROWTH = 512 * 1024  # KiB of peak memory a render may add (text doubled with `~` in a loop)


class TemplateLimitError(Exception):
    """A template went past one of the bounds; the message says which and how to stay within.

    `line` is the template line last executed when the bound was found outside the template's
    own frames (output size), else None (the traceback then holds the line)."""

    line: int | None = None


class TemplateOutsideError(Exception):
    """A template file (or an include) resolves to a file outside the templates folder."""


class TemplateRecursionError(RecursionError):
    """Raised on entering one template frame too many: the line to show is the caller's."""


def _check_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
            raise TemplateLimitError(f"the number {value} is larger than templates may use ({MAX_NUMBER:,})")


def _check_length(value: Any) -> Any:
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_SEQUENCE:
        raise TemplateLimitError(f"this builds text or a list of more than {MAX_SEQUENCE:,} items")
    return value


#: Filters whose numeric arguments size what they build (`|center(10**9)`); the numbers other
#: filters take (`|default(50000)`, `|replace("2026", 2027)`) are left alone.
SIZED_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate", "batch", "slice"})


def _bounded_filter(filter_: Callable[..., Any], sized: bool) -> Callable[..., Any]:
    @functools.wraps(filter_)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if sized:
            _check_args(args[1:], kwargs)  # the first argument is the value being filtered
        return _check_length(filter_(*args, **kwargs))

    return bounded


def _check_string_method(method: Any, args: tuple[Any, ...]) -> None:
    """String methods whose output can dwarf their input, estimated before they run."""
    method = getattr(method, "__wrapped__", method)  # the sandbox wraps str.format
    owner, name = getattr(method, "__self__", None), getattr(method, "__name__", "")
    if not isinstance(owner, str):
        return
    texts = [a for a in args if isinstance(a, str)]
    estimate = len(owner)
    if name == "replace" and len(texts) >= 2:
        estimate += (owner.count(texts[0]) + 1) * len(texts[1])
    elif name == "join" and args and isinstance(args[0], (list, tuple, str)):
        estimate += len(owner) * len(args[0]) + sum(len(str(x)) for x in args[0])
    elif name == "expandtabs":
        estimate *= max(8, *(a for a in args if isinstance(a, int)))
    elif name in ("center", "ljust", "rjust", "zfill"):
        estimate = max(estimate, *(a for a in args if isinstance(a, int)), 0)
    elif name in ("format", "format_map") and re.search(r"\d{5,}", owner):
        raise TemplateLimitError("a format width in this text is larger than templates may use")
    if estimate > MAX_SEQUENCE:
        raise TemplateLimitError(f"this builds text of more than {MAX_SEQUENCE:,} characters")


def _bounded_format(value: Any, *args: Any, **kwargs: Any) -> str:
    """`|format` with widths and precisions bounded (`"%09999999999d"|format(1)`)."""
    for number in re.findall(r"%[-#0 +]*(\d+)?(?:\.(\d+))?", str(value)):
        for part in number:
            if part and int(part) > MAX_NUMBER:
                raise TemplateLimitError(f"a format width of {part} is larger than templates may use ({MAX_NUMBER:,})")
    if "*" in str(value):  # `%*d`: the width comes from the arguments
        _check_args(args, {})
    return _check_length(str(value) % (kwargs or args))


class _BoundedCodeGenerator(CodeGenerator):
    """Wraps every `~` concatenation so its length is checked like `+` and `*` are."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_text(")
        super().visit_Concat(node, frame)
        self.write(")")


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox with numbers, built sequences and `range` bounded (see the module docstring)."""

    intercepted_binops = frozenset(["*", "**", "+"])
    code_generator_class = _BoundedCodeGenerator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters = {name: _bounded_filter(f, name in SIZED_FILTERS) for name, f in self.filters.items()}
        self.filters["format"] = _bounded_format
        self.globals.pop("lipsum", None)  # generates text of any size; no caption needs it

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**":
            if isinstance(right, int) and abs(right) > 64 or isinstance(left, int) and abs(left) > MAX_NUMBER:
                raise TemplateLimitError(f"{left} ** {right} is larger than templates may compute")
            return left**right
        if operator_ == "*":
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, (str, list, tuple)) and isinstance(count, int):
                    if len(sequence) * count > MAX_SEQUENCE:
                        raise TemplateLimitError(f"this repeats text or a list to more than {MAX_SEQUENCE:,} items")
            if isinstance(left, int) and isinstance(right, int) and (abs(left) > 10**18 or abs(right) > 10**18):
                raise TemplateLimitError("this multiplies numbers larger than templates may use")
            return left * right
        result = operator.add(left, right)
        if isinstance(result, (str, list, tuple)) and len(result) > MAX_SEQUENCE:
            raise TemplateLimitError(f"this joins text or lists to more than {MAX_SEQUENCE:,} items")
        return result

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's signature)
        if getattr(__obj, "__name__", "") in ("range", "safe_range"):
            _check_args(args, kwargs)  # 10**4 per loop; nested loops meet the deadline
        _check_string_method(__obj, args)
        return _check_length(super().call(__context, __obj, *args, **kwargs))

    def bounded_text(self, text: Any) -> Any:
        """The result of `a ~ b`, checked (the generated code calls this, see `_BoundedCodeGenerator`)."""
        return _check_length(text)


class ConfinedLoader(FileSystemLoader):
    """Loads templates only from inside its folders: a template (or an include) that is a
    symbolic link to a file elsewhere (`~/.ssh/id_rsa`, the secrets file) is refused, so a
    calendar folder cannot make a caption publish the contents of another file."""

    def get_source(self, environment: Any, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        source, filename, uptodate = super().get_source(environment, template)
        if filename is not None:
            real = os.path.realpath(filename)
            folders = [os.path.realpath(folder) for folder in self.searchpath]
            if not any(real == folder or real.startswith(folder + os.sep) for folder in folders):
                raise TemplateOutsideError(f"the template {template} is a link to {real}, outside the templates folder — "
                                           "copy the file into the folder instead of linking it")
        return source, filename, uptodate


def render_bounded(template: Template, variables: dict[str, Any], *, seconds: float = MAX_SECONDS,
                   max_output: int = MAX_OUTPUT) -> str:
    """Render `template` within the output size and time bounds; raises `TemplateLimitError`
    (or the template's own errors, with its frames in the traceback for the line)."""
    deadline = time.monotonic() + seconds
    chunks: list[str] = []
    size = 0

    memory_limit = _peak_memory_kib() + MAX_MEMORY_GROWTH
    state = {"line": 0, "depth": 0, "lines": 0}

    def on_line(frame: Any, event: str, _arg: Any) -> Any:
        if event == "return":
            state["depth"] -= 1
            return on_line
        state["line"] = frame.f_lineno
        state["lines"] += 1
        if time.monotonic() > deadline:
            raise TemplateLimitError(f"the template ran longer than {seconds:g} s (a loop too long?)")
        if state["lines"] % 64 == 0 and _peak_memory_kib() > memory_limit:
            raise TemplateLimitError("the template built text too large to hold (text doubled in a loop?)")
        return on_line

    def on_call(frame: Any, event: str, _arg: Any) -> Any:
        if not _is_template_code(frame.f_code.co_filename):
            return None
        state["depth"] += 1
        if state["depth"] > MAX_NESTING:
            raise TemplateRecursionError(f"templates and macros nested more than {MAX_NESTING} deep")
        return on_line

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        stream: Iterator[str] = template.generate(**variables)
        for chunk in stream:
            size += len(chunk)
            if size > max_output:
                error = TemplateLimitError(f"the template wrote more than {max_output:,} characters")
                error.line = template.get_corresponding_lineno(state["line"]) if state["line"] else None
                raise error
            chunks.append(chunk)
    except MemoryError:
        raise TemplateLimitError("the template built text too large to hold (text doubled in a loop?)") from None
    finally:
        sys.settrace(previous)
    return "".join(chunks)


def _is_template_code(filename: str) -> bool:
    """Jinja compiles each template (and each one it includes) with the template's file name."""
    return filename.endswith(".j2") or filename == "<template>"


def _peak_memory_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
