"""Hostile and careless templates: nothing runs outside the sandbox, nothing runs unbounded.

The class of inputs covered: any Jinja2 template that can come from a calendar's folder
(caption templates and `templates/preview.html.j2`) trying to reach Python internals, or
spending unbounded time, memory, output or recursion (huge `range`, nested loops, text
repeated with `*`, doubled with `~` or `+` in a loop, padded with `|center`/`|format`/
`str.format` widths, `.replace`/`.join` blow-ups, macros and includes that recurse), and
templates that only fail for some moment, channel, language or testimonial. Each must end
as one `TemplateError` saying `file:LINE:` (or `validate` exiting 2 with it), quickly,
never a traceback and never the template's code running as the user.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from campaign.errors import TemplateError
from scheduler.plan.captions import CaptionRenderer

REPO = Path(__file__).resolve().parents[3]
VARIABLES = {"title": "T", "speaker": "Aiko", "country": "Japan", "quote": "Belgium is open", "baseline": "B",
             "tagline": "E", "hashtags": ["a"], "link": None, "quote_open": "“", "quote_close": "”", "separator": ", "}
ESCAPE = "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}"

HOSTILE_CAPTIONS = {
    "escape": ("intro\n" + ESCAPE, 2, "unsafe"),
    "huge-range": ("{% for i in range(10**8) %}x{% endfor %}", 1, "larger than templates may use"),
    "nested-loops": ("a\n{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}", 2, "longer than"),
    "repeat": ("{{ 'x' * 10**9 }}", 1, "more than 100,000"),
    "power": ("{{ 9 ** 99999999 }}", 1, "larger than templates may compute"),
    "center": ("{{ quote|center(1000000000) }}", 1, "larger than templates may use"),
    "format-filter": ("{{ '%0999999999d'|format(1) }}", 1, "format width"),
    "format-star": ("{{ '%*d'|format(999999999, 1) }}", 1, "larger than templates may use"),
    "ljust": ("{{ quote.ljust(999999999) }}", 1, "more than 100,000"),
    "format-method": ("{{ '{:>999999999}'.format(1) }}", 1, "format width"),
    "replace": ("{% set s = quote * 500 %}\n{{ s.replace('e', s) }}", 2, "more than 100,000"),
    "concat-doubling": ("{% set ns = namespace(s='x') %}\n{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                        2, "more than 100,000"),
    "plus-doubling": ("{% set ns = namespace(s=[1]) %}\n{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
                      2, "more than 100,000"),
    "output": ("{% for i in range(9999) %}\n{{ quote * 20 }}\n{% endfor %}", 2, "wrote more than"),
    "macro-recursion": ("{% macro f(n) %}{{ f(n) }}{% endmacro %}\n{{ f(1) }}", 1, "calls itself"),
    "include-itself": ("x\n{% include 'include-itself.j2' %}", 2, "calls itself"),
    "lipsum": ("{{ lipsum(10000) }}", 1, "lipsum"),
    "division": ("{{ title }}\n{{ 1 / 0 }}", 2, "division by zero"),
}


def write_captions(tmp_path: Path, files: dict[str, str]) -> CaptionRenderer:
    captions = tmp_path / "templates" / "captions"
    captions.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (captions / name).write_text(text, encoding="utf-8")
    return CaptionRenderer(tmp_path / "templates")


@pytest.mark.parametrize("name", sorted(HOSTILE_CAPTIONS))
def test_hostile_caption_is_a_located_template_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    text, line, words = HOSTILE_CAPTIONS[name]
    renderer = write_captions(tmp_path, {f"{name}.j2": text})
    started = time.perf_counter()
    with pytest.raises(TemplateError) as caught:
        renderer.render(name, "en", VARIABLES)
    seconds = time.perf_counter() - started
    message = str(caught.value)
    assert message.startswith(f"templates/captions/{name}.j2:{line}:"), message
    assert words in message, message
    assert seconds < 4.0, f"{name} took {seconds:.1f} s"
    assert not (tmp_path / "MARKER").exists()


def test_templates_cannot_read_files_outside_their_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    outside = tmp_path / "secrets.toml"
    outside.write_text('[be-x]\ntoken = "EAAB-outside-file"\n', encoding="utf-8")
    renderer = write_captions(tmp_path, {"climb.j2": "{% include '../../secrets.toml' %}",
                                         "via-link.j2": "a\n{% include 'linked.j2' %}"})
    (tmp_path / "templates" / "captions" / "linked.j2").symlink_to(outside)
    (tmp_path / "templates" / "captions" / "direct.j2").symlink_to(outside)
    for name in ("climb", "via-link", "direct"):
        with pytest.raises(TemplateError) as caught:
            renderer.render(name, "en", VARIABLES)
        assert "EAAB-outside-file" not in str(caught.value)
        assert str(caught.value).startswith(f"templates/captions/{name}.j2"), caught.value
    assert "outside the templates folder" in str(caught.value)


def test_a_moment_template_is_a_name_not_a_path(tmp_path: Path) -> None:
    from campaign.calendar import load_calendar
    from campaign.errors import CalendarError

    folder = calendar_folder(tmp_path)
    lines = (folder / "calendar.yaml").read_text(encoding="utf-8").splitlines()
    moments = lines.index("moments:")
    pillar = next(i for i, l in enumerate(lines) if l.startswith("    pillar: ") and i > moments)  # the first moment's
    (folder / "templates" / "notes.j2").write_text("private notes\n", encoding="utf-8")  # outside captions/
    lines.insert(pillar + 1, "    template: ../notes")
    line = pillar + 2
    (folder / "calendar.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CalendarError) as caught:
        load_calendar(folder / "calendar.yaml")
    assert [str(p) for p in caught.value.problems if p.line == line and "template" in p.where], caught.value


def test_bounds_leave_ordinary_captions_alone(tmp_path: Path) -> None:
    shutil.copytree(REPO / "templates" / "captions", tmp_path / "templates" / "captions")
    renderer = write_captions(tmp_path, {"loops.j2": "{% for t in hashtags %}#{{ t|upper }} {% endfor %}{{ '%-3s|'|format('a') }}"
                                                     "{{ '{}!'.format(quote) }}{{ (quote ~ ' ') * 3 }}{{ 2 ** 10 }}"})
    assert renderer.render("loops", "en", VARIABLES) == "#A a  |Belgium is open!Belgium is open Belgium is open Belgium is open 1024"
    numbers = write_captions(tmp_path, {"numbers.j2": "{{ '%d followers'|format(120000) }} {{ nothing|default(50000) }} "
                                                      "{{ title|replace('T', 2027) }} {{ 123456|string|length }}"})
    assert numbers.render("numbers", "en", {**VARIABLES, "nothing": None}) == "120000 followers None 2027 6"
    assert "“Belgium is open” — Aiko, Japan" in renderer.render("testimonial", "en", VARIABLES)


def calendar_folder(tmp_path: Path) -> Path:
    """A copy of the sample calendar whose templates folder is a real copy (so tests can add files)."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "brand").symlink_to(REPO / "assets" / "brand")
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    shutil.copy(REPO / "calendar.yaml", tmp_path / "calendar.yaml")
    return tmp_path


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "run.py"), *args], cwd=cwd, capture_output=True, text=True, timeout=180)


@pytest.mark.slow  # runs the CLI as a process
def test_preview_template_from_the_calendar_folder_cannot_run_code(tmp_path: Path) -> None:
    folder = calendar_folder(tmp_path)
    (folder / "templates" / "preview.html.j2").write_text("<html>\n<body>\n" + ESCAPE + "\n</body></html>\n", encoding="utf-8")
    result = run("preview", "-o", "out/preview.html", cwd=folder)
    assert not (folder / "MARKER").exists(), "the calendar's preview template ran a shell command"
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("templates/preview.html.j2:3:"), result.stderr
    assert "unsafe" in result.stderr


@pytest.mark.slow  # runs the CLI as a process
def test_validate_renders_every_caption_and_finds_one_that_breaks_for_one_testimonial(tmp_path: Path) -> None:
    folder = calendar_folder(tmp_path)
    ja = folder / "templates" / "captions" / "testimonial.ja.j2"
    ja.write_text(ja.read_text(encoding="utf-8") + "\n{% if speaker != 'nobody' %}{{ hashtags[99] }}{% endif %}\n", encoding="utf-8")
    shared = folder / "templates" / "captions" / "testimonial.j2"
    shared.write_text("{{ title }}\n{{ (1 / 0) if country == 'Morocco' else quote }}\n", encoding="utf-8")
    result = run("validate", cwd=folder)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    line_count = len(ja.read_text(encoding="utf-8").splitlines())
    assert any(line.startswith(f"templates/captions/testimonial.ja.j2:{line_count}:") for line in lines), result.stderr
    assert any(line.startswith("templates/captions/testimonial.j2:2:") and "division by zero" in line for line in lines), result.stderr


@pytest.mark.slow  # runs the CLI as a process
def test_validate_refuses_bidi_controls_in_a_template(tmp_path: Path) -> None:
    folder = calendar_folder(tmp_path)
    shared = folder / "templates" / "captions" / "testimonial.j2"
    shared.write_text(shared.read_text(encoding="utf-8").replace("{{ baseline }}.", "{{ baseline }}.\u202e"), encoding="utf-8")
    result = run("validate", cwd=folder)
    assert result.returncode == 2
    assert "templates/captions/testimonial.j2:" in result.stderr and "U+202E" in result.stderr


def test_preview_isolates_user_text_from_the_page_around_it(tmp_path: Path) -> None:
    """Names, accounts, plan messages and warnings come from people: each sits in its own
    <bdi> (or an element with dir=auto), so a right-to-left name cannot reorder the page text
    beside it. Checked with the standard library's HTML parser over the real page."""
    from html.parser import HTMLParser

    from campaign.calendar import load_calendar
    from scheduler.plan import plan_posts
    from scheduler.plan.preview import render_preview

    loaded = load_calendar(REPO / "calendar.yaml")
    page = render_preview(plan_posts(loaded, build_dir=tmp_path / "build"), loaded.calendar, root=None)

    class Isolation(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[tuple[str, dict[str, str | None]]] = []
            self.unisolated: list[str] = []
            self.checked = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag not in ("br", "img", "meta", "link", "source"):
                self.stack.append((tag, dict(attrs)))

        def handle_endtag(self, tag: str) -> None:
            while self.stack and self.stack.pop()[0] != tag:
                pass

        def handle_data(self, data: str) -> None:
            classes = " ".join(a.get("class") or "" for _t, a in self.stack).split()
            user_text = {"account", "warnings", "issues", "baseline"} & set(classes) or any(t == "h1" for t, _ in self.stack)
            if not user_text or not data.strip() or data.strip() in ("“", "”", "—"):
                return
            if any(t == "b" for t, _ in self.stack):
                return  # the page's own labels (severity)
            self.checked += 1
            if not any(t == "bdi" or a.get("dir") for t, a in self.stack):
                self.unisolated.append(data.strip())

    parser = Isolation()
    parser.feed(page)
    assert parser.checked > 20
    assert parser.unisolated == []
