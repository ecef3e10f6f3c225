"""The results page: one self-contained HTML file (charts as inline SVG drawn by matplotlib, thumbnails
as data URIs), readable offline and on a phone. Charts are pictures people look at; the tables under
them carry the exact figures.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from campaign.calendar.models import Calendar
from scheduler.plan.preview import THUMB_CACHE, thumbnail_data_uri
from scheduler.platforms.figures import LABELS
from scheduler.results.report import Results

PALETTE = ("#1f4e79", "#d4a017", "#b8433b", "#3f7f5f", "#7a5195", "#ef5675", "#4b8bbe", "#8c6d31")
TOP_POSTS = 8


def _figure(width: float, height: float) -> Any:
    # matplotlib costs 0.8 s of start-up (measured): imported only when the results page draws its charts
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # after choosing the Agg backend (no display)

    plt.rcParams.update({"svg.fonttype": "path", "svg.hashsalt": "embracing-openness", "font.size": 11,
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt.subplots(figsize=(width, height), dpi=100)


def _svg(fig: Any) -> str:
    """The figure as inline SVG that scales to its container (no fixed size, no timestamp)."""
    # matplotlib costs 0.8 s of start-up (measured): imported only when the results page draws its charts
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    return re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r'<svg\1 role="img"', svg, count=1)


def _thousands(value: float, _pos: Any = None) -> str:
    return f"{value / 1000:.0f}k" if value >= 10_000 else f"{value:,.0f}"


#: where the age axis is labelled (seconds after publication)
AGE_TICKS = ((3600, "1 h"), (86400, "24 h"), (7 * 86400, "7 days"), (30 * 86400, "30 days"))


def reach_lines(results: Results) -> dict[str, list[tuple[float, int]]]:
    """Per moment, (hours after publication, what its posts had reached by then): each post's
    latest figure collected by that age, added up; the age is the real one (collected minus
    published), so a late collection stands where it was read."""
    by_post = {p.post_id: p for p in results.posts}
    events: dict[str, list[tuple[float, str, int]]] = defaultdict(list)
    for row in results.series:
        post = by_post.get(row["post_id"])
        value = row["reach"] if row["reach"] is not None else row["impressions"]
        if post is None or value is None:
            continue
        events[post.moment].append((max(60.0, row["real_age"]), post.post_id, value))
    lines: dict[str, list[tuple[float, int]]] = {}
    for moment, seen in events.items():
        current: dict[str, int] = {}
        points = []
        for age, post_id, value in sorted(seen):
            current[post_id] = value
            points.append((age / 3600, sum(current.values())))
        lines[moment] = points
    return lines


def reach_by_age(results: Results, calendar: Calendar | None) -> str | None:
    """Reach (impressions where no reach is given) of each moment's posts by age after publication:
    at each age, the sum over the moment's posts of the latest figure collected by that age. The x
    axis is the real age (collection time minus publication time), never the collection date: a
    moment's curve shows what it reached 1 hour, 24 hours, 7 and 30 days after going out, and a
    figure collected late shows late, not in another month."""
    lines = reach_lines(results)
    if not lines:
        return None
    # matplotlib costs 0.8 s of start-up (measured): imported only when the results page draws its charts
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    titles = {m.id: m.title for m in calendar.moments} if calendar else {}
    fig, ax = _figure(5.6, 4.2)  # small figures with large type: the page shows them ~350 px wide on a phone
    for index, (moment, points) in enumerate(sorted(lines.items(), key=lambda item: -item[1][-1][1])):
        xs, ys = zip(*points)
        ax.step(xs, ys, where="post", color=PALETTE[index % len(PALETTE)], linewidth=2, marker="o", markersize=3,
                label=titles.get(moment, moment))
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator([seconds / 3600 for seconds, _ in AGE_TICKS]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda hours, _pos: dict((s / 3600, t) for s, t in AGE_TICKS).get(hours, "")))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(0.5, 45 * 24)
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_xlabel("age after publication")
    ax.set_ylabel("people reached")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), fontsize=10, frameon=False, ncol=1)
    ax.grid(axis="y", alpha=0.3)
    return _svg(fig)


def bars(results: Results, dimension: str, *, horizontal: bool = False) -> str | None:
    groups = [g for g in results.group(dimension) if g.key != "-"]
    if not groups:
        return None
    # matplotlib costs 0.8 s of start-up (measured): imported only when the results page draws its charts
    from matplotlib.ticker import FuncFormatter

    keys = [g.key for g in groups]
    reach = [(g.totals["reach"] if g.totals["reach"] is not None else g.totals["impressions"]) or 0 for g in groups]
    engaged = [sum(g.totals[c] or 0 for c in ("likes", "reposts", "replies")) for g in groups]
    fig, ax = _figure(5, max(2.6, 0.5 * len(keys) + 1.2) if horizontal else 3.4)
    positions = range(len(keys))
    if horizontal:
        ax.barh(list(positions), reach, color=PALETTE[0], label="reached")
        ax.barh(list(positions), engaged, color=PALETTE[1], label="likes, reposts and replies")
        ax.set_yticks(list(positions), keys)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
    else:
        width = 0.4
        ax.bar([p - width / 2 for p in positions], reach, width, color=PALETTE[0], label="reached")
        ax.bar([p + width / 2 for p in positions], engaged, width, color=PALETTE[1], label="likes, reposts and replies")
        ax.set_xticks(list(positions), keys)
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.legend(fontsize=10, frameon=False, loc="lower right" if horizontal else "upper right")
    return _svg(fig)


def _cell(value: int | None) -> str:
    return "not given" if value is None else f"{value:,}"


def write_results_page(results: Results, calendar: Calendar | None, out: Path, *, build_dir: Path, now: dt.datetime) -> Path:
    def rank(post: Any) -> tuple[int, int]:  # people reached first; engagement for platforms that count no views
        engaged = sum(post.figures[c] or 0 for c in ("likes", "reposts", "replies"))
        return (-(post.audience or 0), -engaged)

    ranked = sorted((p for p in results.posts if p.age is not None and not p.not_given), key=rank)[:TOP_POSTS]
    top = []
    for post in ranked:
        kind = "clip" if post.media_path and post.media_path.endswith(".mp4") else "photo"
        thumb = thumbnail_data_uri(build_dir / post.media_path, kind, cache=build_dir / THUMB_CACHE) if post.media_path else None
        top.append({"post": post, "thumb": thumb, "figures": {LABELS.get(c, c): _cell(post.figures[c]) for c in results.columns}})
    titles = {m.id: m.title for m in calendar.moments} if calendar else {}
    tables = {}
    for dimension in ("moment", "pillar", "country", "channel", "language", "testimonial"):
        tables[dimension] = [{"key": titles.get(g.key, g.key) if dimension == "moment" else g.key, "posts": g.posts,
                              "cells": [_cell(g.totals[c]) for c in results.columns]} for g in results.group(dimension)]
    total = results.totals()
    env = SandboxedEnvironment(loader=FileSystemLoader(str(Path(__file__).parent)), autoescape=select_autoescape(default=True),
                               undefined=StrictUndefined)
    html = env.get_template("results.html.j2").render(
        campaign=calendar.campaign.name if calendar else "Campaign", generated=now, posts=len(results.posts),
        total={LABELS.get(c, c): _cell(total.totals[c]) for c in results.columns}, notes=results.notes,
        charts={"age": reach_by_age(results, calendar), "pillar": bars(results, "pillar"),
                "country": bars(results, "country", horizontal=True)},
        top=top, tables=tables, columns=[LABELS.get(c, c) for c in results.columns])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
