"""The run pages' charts, as the project's own server-rendered SVG (no script, no CDN).

Each function takes plain rows (from ``runs.presenters``) and returns safe SVG markup whose
elements carry their numbers as ``data-*`` attributes and ``<title>`` tooltips, so a reader can
hover for the value and a test can read what was drawn.
"""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from atp_core.orchestrator.latency import LOGON_PHASES

LOGON_COLOURS = {
    "power_on": "#6c757d",
    "agent": "#9b59b6",
    "login_screen": "#2e86de",
    "credentials": "#f39c12",
    "desktop": "#27ae60",
    "app": "#c0392b",
}
STAT_COLOURS = {"p50": "#2e86de", "p95": "#f39c12", "max": "#c0392b"}
KIND_COLOURS = ("#2e86de", "#27ae60", "#c0392b", "#9b59b6", "#f39c12", "#16a085", "#6c757d")
SAMPLES_DRAWN = 200  # dots per step row; the statistics use every sample


def nice_ceiling(value: float) -> float:
    """The smallest 1/2/2.5/5 x 10^n at or above ``value`` (an axis end), at least 1."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _num(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _run_labels(xs: list[tuple[float, int]], y: float) -> list[str]:
    """Run ids under the x axis: every run when there are few, else every n-th."""
    every = max(1, math.ceil(len(xs) / 16))
    return [
        f'<text class="run-label" x="{x:.1f}" y="{y}" font-size="10" text-anchor="middle">'
        f"{run_id}</text>"
        for n, (x, run_id) in enumerate(xs)
        if n % every == 0 or n == len(xs) - 1
    ]


def _axis(x0: float, x1: float, y: float, scale: float, unit: str, ticks: int = 4) -> list[str]:
    parts = [f'<line class="axis" x1="{x0}" x2="{x1}" y1="{y}" y2="{y}" stroke="#999"/>']
    for i in range(ticks + 1):
        x = x0 + (x1 - x0) * i / ticks
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y}" y2="{y + 4}" stroke="#999"/>')
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{y + 15}" font-size="11" text-anchor="middle">'
            f"{_num(scale * i / ticks)}{unit if i == ticks else ''}</text>"
        )
    return parts


def latency_steps_svg(rows: list[dict]) -> SafeString:
    """The latency distribution of every measured input step: per row (a step of a target,
    all its loop iterations) a dot per measurement, the min-max range, the p50 and p95 marks,
    the step's ``max_latency`` as a red dashed line. ``rows``: label, target, step, kind,
    samples (ms), p50, p95, max (ms), limit (ms or None)."""
    if not rows:
        return mark_safe("")
    label_w, plot_w, value_w, row_h, top = 250, 420, 250, 24, 8
    x0, x1 = label_w, label_w + plot_w
    scale = nice_ceiling(
        max(max(r["max"] for r in rows), max((r["limit"] or 0) for r in rows)) * 1.05
    )
    height = top + row_h * len(rows) + 24
    parts = []
    for i, r in enumerate(rows):
        y = top + i * row_h
        mid = y + row_h / 2

        def at(ms: float) -> float:
            return x0 + min(ms, scale) / scale * plot_w

        over = r["limit"] is not None and r["max"] > r["limit"]
        parts.append(
            f'<g class="lat-step{" over" if over else ""}" data-target="{escape(r["target"])}" '
            f'data-step="{escape(r["step"])}" data-kind="{escape(r["kind"])}" '
            f'data-count="{len(r["samples"])}" data-p50="{r["p50"]:.0f}" '
            f'data-p95="{r["p95"]:.0f}" data-max="{r["max"]:.0f}">'
        )
        if i % 2:
            parts.append(
                f'<rect x="0" y="{y}" width="{x1 + value_w}" height="{row_h}" fill="#f6f7f9"/>'
            )
        parts.append(
            f'<text class="label" x="4" y="{mid + 4}" font-size="12">'
            f"{escape(r['label'][:38])}</text>"
        )
        low = min(r["samples"])
        parts.append(
            f'<line class="range" x1="{at(low):.1f}" x2="{at(r["max"]):.1f}" y1="{mid}" '
            f'y2="{mid}" stroke="#8aa" stroke-width="2"/>'
        )
        for ms in r["samples"][:SAMPLES_DRAWN]:
            parts.append(
                f'<circle class="sample" cx="{at(ms):.1f}" cy="{mid}" r="3.5" fill="#2e86de" '
                f'fill-opacity="0.55"><title>{ms:.0f} ms</title></circle>'
            )
        for stat in ("p50", "p95"):
            x = at(r[stat])
            parts.append(
                f'<line class="mark-{stat}" x1="{x:.1f}" x2="{x:.1f}" y1="{y + 4}" '
                f'y2="{y + row_h - 4}" stroke="{STAT_COLOURS[stat]}" stroke-width="3">'
                f"<title>{stat} {r[stat]:.0f} ms</title></line>"
            )
        if r["limit"] is not None:
            x = at(r["limit"])
            parts.append(
                f'<line class="limit" x1="{x:.1f}" x2="{x:.1f}" y1="{y + 1}" y2="{y + row_h - 1}" '
                f'stroke="#b00020" stroke-width="2" stroke-dasharray="3 2">'
                f"<title>max_latency {r['limit']:.0f} ms</title></line>"
            )
        n = len(r["samples"])
        value = (
            f"{r['max']:.0f} ms"
            if n == 1
            else f"p50 {r['p50']:.0f} · p95 {r['p95']:.0f} · max {r['max']:.0f} ms (n={n})"
        )
        fill = "#b00020" if over else "#222"
        parts.append(
            f'<text class="value{" over" if over else ""}" x="{x1 + 8}" y="{mid + 4}" '
            f'font-size="12" fill="{fill}">{value}</text></g>'
        )
    parts += _axis(x0, x1, top + row_h * len(rows) + 2, scale, " ms")
    return mark_safe(
        f'<svg class="chart latency-steps" viewBox="0 0 {x1 + value_w} {height}" '
        f'width="{x1 + value_w}" height="{height}" role="img" '
        f'aria-label="input-to-display latency per step">{"".join(parts)}</svg>'
    )


def latency_kinds_svg(rows: list[dict]) -> SafeString:
    """p50, p95 and max latency per action kind as grouped horizontal bars. ``rows``: the
    ``latency_rows`` of the run (action, count, p50, p95, max in ms)."""
    if not rows:
        return mark_safe("")
    label_w, plot_w, bar_h, gap, top = 90, 480, 12, 12, 6
    x0 = label_w
    scale = nice_ceiling(max(r["max"] for r in rows) * 1.05)
    group_h = 3 * bar_h + gap
    height = top + group_h * len(rows) + 22
    parts = []
    for i, r in enumerate(rows):
        y = top + i * group_h
        parts.append(
            f'<g class="lat-kind" data-kind="{escape(r["action"])}" data-count="{r["count"]}" '
            f'data-p50="{r["p50"]:.0f}" data-p95="{r["p95"]:.0f}" data-max="{r["max"]:.0f}">'
            f'<text class="label" x="4" y="{y + 1.5 * bar_h + 4}" font-size="12">'
            f"{escape(r['action'])} (n={r['count']})</text>"
        )
        for j, stat in enumerate(("p50", "p95", "max")):
            w = max(r[stat] / scale * plot_w, 0.5)
            by = y + j * bar_h
            parts.append(
                f'<rect class="bar-{stat}" x="{x0}" y="{by}" width="{w:.1f}" height="{bar_h - 2}" '
                f'fill="{STAT_COLOURS[stat]}"><title>{escape(r["action"])} {stat} '
                f"{r[stat]:.0f} ms</title></rect>"
                f'<text x="{x0 + w + 4:.1f}" y="{by + bar_h - 3}" font-size="10">{stat} '
                f"{r[stat]:.0f} ms</text>"
            )
        parts.append("</g>")
    parts += _axis(x0, x0 + plot_w, top + group_h * len(rows), scale, " ms")
    width = x0 + plot_w + 110
    return mark_safe(
        f'<svg class="chart latency-kinds" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="latency p50/p95/max per action kind">'
        f"{''.join(parts)}</svg>"
    )


def logon_bar_svg(metrics: dict, scale: float) -> SafeString:
    """A stacked bar of one logon step's phases; ``scale``: the longest total shown with it,
    so the bars of several targets (or runs) compare."""
    width, height = 600, 22
    try:
        scale = max(float(scale), 1e-6)
    except (TypeError, ValueError):
        return mark_safe("")
    x = 0.0
    parts = []
    for phase in LOGON_PHASES:
        value = (metrics or {}).get(f"logon.{phase}")
        if value is None:
            continue
        w = float(value) / scale * width
        label = f"{phase.replace('_', ' ')}: {float(value):.2f} s"
        parts.append(
            f'<rect class="logon-{phase}" x="{x:.1f}" y="0" width="{max(w, 0.5):.1f}" '
            f'height="{height}" fill="{LOGON_COLOURS[phase]}" data-seconds="{float(value):.3f}">'
            f"<title>{escape(label)}</title></rect>"
        )
        x += w
    total = float((metrics or {}).get("logon.total") or 0)
    at = min(x + 6, width + 4)
    parts.append(f'<text x="{at:.1f}" y="16" font-size="13">{total:.1f} s</text>')
    return mark_safe(
        f'<svg class="logon-bar" width="{width + 60}" height="{height}" role="img" '
        f'aria-label="logon phases">{"".join(parts)}</svg>'
    )


def latency_trend_svg(runs: list[dict], kinds: list[str]) -> SafeString:
    """p95 (solid) and p50 (dashed) latency per action kind, one point per run, oldest left.
    ``runs``: run_id, label (when), latency {kind: {p50, p95}} in ms."""
    points = [(i, r, k) for i, r in enumerate(runs) for k in kinds if k in r["latency"]]
    if not points:
        return mark_safe("")
    left, plot_w, plot_h, top = 50, 560, 160, 10
    scale = nice_ceiling(max(r["latency"][k]["p95"] for _, r, k in points) * 1.05)
    step = plot_w / max(len(runs) - 1, 1)

    def xy(i: int, ms: float) -> tuple[float, float]:
        return left + (i * step if len(runs) > 1 else plot_w / 2), top + plot_h * (1 - ms / scale)

    parts = [
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="#999"/><line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" '
        f'stroke="#999"/>'
        f'<text x="{left - 4}" y="{top + 8}" font-size="11" text-anchor="end">{_num(scale)}</text>'
        f'<text x="{left - 4}" y="{top + plot_h}" font-size="11" text-anchor="end">0 ms</text>'
    ]
    for n, kind in enumerate(kinds):
        colour = KIND_COLOURS[n % len(KIND_COLOURS)]
        for stat, dash in (("p50", ' stroke-dasharray="4 3"'), ("p95", "")):
            line = [
                xy(i, r["latency"][kind][stat]) for i, r in enumerate(runs) if kind in r["latency"]
            ]
            if len(line) > 1:
                coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in line)
                parts.append(
                    f'<polyline class="trend-{stat}" data-kind="{escape(kind)}" fill="none" '
                    f'stroke="{colour}" stroke-width="2"{dash} points="{coords}"/>'
                )
        for i, r in enumerate(runs):
            if kind not in r["latency"]:
                continue
            s = r["latency"][kind]
            x, y = xy(i, s["p95"])
            parts.append(
                f'<circle class="trend-point" data-kind="{escape(kind)}" data-run="{r["run_id"]}" '
                f'data-p50="{s["p50"]:.0f}" data-p95="{s["p95"]:.0f}" cx="{x:.1f}" cy="{y:.1f}" '
                f'r="4" fill="{colour}"><title>run {r["run_id"]} ({escape(r["label"])}): '
                f"{escape(kind)} p50 {s['p50']:.0f} ms, p95 {s['p95']:.0f} ms</title></circle>"
            )
    parts += _run_labels(
        [(xy(i, 0)[0], r["run_id"]) for i, r in enumerate(runs)], top + plot_h + 12
    )
    legend_y = top + plot_h + 30
    for n, kind in enumerate(kinds):
        colour = KIND_COLOURS[n % len(KIND_COLOURS)]
        x = left + n * 110
        parts.append(
            f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{legend_y}" font-size="11">{escape(kind)}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w}" y="{legend_y}" font-size="11" text-anchor="end">'
        f"p95 solid · p50 dashed · x: run id, oldest left</text>"
    )
    width, height = left + plot_w + 20, legend_y + 8
    return mark_safe(
        f'<svg class="chart latency-trend" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="latency p50/p95 per run">{"".join(parts)}</svg>'
    )


def logon_trend_svg(runs: list[dict]) -> SafeString:
    """One stacked column per run: the median seconds of each logon phase in that run.
    ``runs``: run_id, label, logon {phase: {median, p95}}."""
    runs = [r for r in runs if r["logon"]]
    if not runs:
        return mark_safe("")
    left, plot_h, top = 50, 150, 10
    col_w = max(8.0, min(36.0, 560 / len(runs) - 4))
    totals = [sum(r["logon"].get(p, {}).get("median", 0) for p in LOGON_PHASES) for r in runs]
    scale = nice_ceiling(max(totals) * 1.05)
    parts = [
        f'<line x1="{left}" x2="{left + len(runs) * (col_w + 4)}" y1="{top + plot_h}" '
        f'y2="{top + plot_h}" stroke="#999"/>'
        f'<text x="{left - 4}" y="{top + 8}" font-size="11" text-anchor="end">{_num(scale)} s'
        f'</text><text x="{left - 4}" y="{top + plot_h}" font-size="11" text-anchor="end">0</text>'
    ]
    for i, r in enumerate(runs):
        x = left + i * (col_w + 4)
        y = top + plot_h
        parts.append(f'<g class="logon-run" data-run="{r["run_id"]}" data-total="{totals[i]:.2f}">')
        for phase in LOGON_PHASES:
            stats = r["logon"].get(phase)
            if not stats:
                continue
            h = stats["median"] / scale * plot_h
            y -= h
            parts.append(
                f'<rect class="logon-{phase}" x="{x:.1f}" y="{y:.1f}" width="{col_w:.1f}" '
                f'height="{max(h, 0.5):.1f}" fill="{LOGON_COLOURS[phase]}" '
                f'data-median="{stats["median"]:.2f}"><title>run {r["run_id"]} '
                f"({escape(r['label'])}): {phase.replace('_', ' ')} median "
                f"{stats['median']:.2f} s, p95 {stats['p95']:.2f} s</title></rect>"
            )
        parts.append("</g>")
    parts += _run_labels(
        [(left + i * (col_w + 4) + col_w / 2, r["run_id"]) for i, r in enumerate(runs)],
        top + plot_h + 12,
    )
    width = max(left + len(runs) * (col_w + 4) + 20, 160)
    height = top + plot_h + 28
    parts.append(f'<text x="{left}" y="{height - 2}" font-size="11">x: run id, oldest left</text>')
    return mark_safe(
        f'<svg class="chart logon-trend" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="logon phase medians per run">'
        f"{''.join(parts)}</svg>"
    )


def capacity_curve_svg(steps: list[dict], *, limit_ms: float | None, capacity: int | None):
    """The latency-vs-desks curve of a capacity run: p95 (solid) and p50 (dashed) per step,
    the stop line (baseline p95 + threshold, red dashed) and the capacity (a green vertical
    line). ``steps``: desks, inputs, p50, p95 (ms, None when the step measured nothing), ratio."""
    drawn = [s for s in steps if s.get("p95") is not None]
    if not drawn:
        return mark_safe("")
    left, plot_w, plot_h, top = 56, 520, 200, 12
    most = max(s["desks"] for s in steps)
    scale = nice_ceiling(max([s["p95"] for s in drawn] + [limit_ms or 0]) * 1.1)

    def x_at(desks: float) -> float:
        return left + (desks - 1) / max(most - 1, 1) * plot_w if most > 1 else left + plot_w / 2

    def y_at(ms: float) -> float:
        return top + plot_h * (1 - min(ms, scale) / scale)

    bottom = top + plot_h
    parts = [
        f'<line class="axis" x1="{left}" x2="{left + plot_w}" y1="{bottom}" y2="{bottom}" '
        f'stroke="#999"/><line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{bottom}" '
        f'stroke="#999"/>'
        f'<text x="{left - 4}" y="{top + 8}" font-size="11" text-anchor="end">{_num(scale)} ms'
        f'</text><text x="{left - 4}" y="{bottom}" font-size="11" text-anchor="end">0</text>'
    ]
    for n in range(1, most + 1):
        parts.append(
            f'<text class="desks-label" x="{x_at(n):.1f}" y="{bottom + 15}" font-size="11" '
            f'text-anchor="middle">{n}</text>'
        )
    if limit_ms is not None:
        y = y_at(limit_ms)
        parts.append(
            f'<line class="stop-line" data-ms="{limit_ms:.0f}" x1="{left}" x2="{left + plot_w}" '
            f'y1="{y:.1f}" y2="{y:.1f}" stroke="#b00020" stroke-width="1.5" '
            f'stroke-dasharray="5 3"><title>stop line: p95 {limit_ms:.0f} ms</title></line>'
        )
    if capacity:
        x = x_at(capacity)
        parts.append(
            f'<line class="capacity-line" data-desks="{capacity}" x1="{x:.1f}" x2="{x:.1f}" '
            f'y1="{top}" y2="{bottom}" stroke="#27ae60" stroke-width="2">'
            f"<title>capacity: {capacity} desks</title></line>"
        )
    for stat, dash in (("p50", ' stroke-dasharray="4 3"'), ("p95", "")):
        coords = " ".join(f"{x_at(s['desks']):.1f},{y_at(s[stat]):.1f}" for s in drawn)
        parts.append(
            f'<polyline class="curve-{stat}" fill="none" stroke="{STAT_COLOURS[stat]}" '
            f'stroke-width="2"{dash} points="{coords}"/>'
        )
    for s in drawn:
        over = limit_ms is not None and s["p95"] > limit_ms
        ratio = "" if s.get("ratio") is None else f"{s['ratio']:.2f}"
        parts.append(
            f'<circle class="curve-point{" over" if over else ""}" data-desks="{s["desks"]}" '
            f'data-inputs="{s["inputs"]}" data-p50="{s["p50"]:.0f}" data-p95="{s["p95"]:.0f}" '
            f'data-ratio="{ratio}" cx="{x_at(s["desks"]):.1f}" cy="{y_at(s["p95"]):.1f}" r="5" '
            f'fill="{"#b00020" if over else STAT_COLOURS["p95"]}"><title>{s["desks"]} desks: '
            f"p50 {s['p50']:.0f} ms, p95 {s['p95']:.0f} ms"
            f"{f' ({ratio} x baseline)' if ratio else ''}, {s['inputs']} inputs</title></circle>"
        )
    legend_y = bottom + 34
    parts.append(
        f'<text x="{left}" y="{legend_y}" font-size="11">x: desks running at once · '
        f"p95 solid · p50 dashed · red dashed: stop line · green: capacity</text>"
    )
    width, height = left + plot_w + 24, legend_y + 8
    return mark_safe(
        f'<svg class="chart capacity-curve" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="input-to-display latency vs desks">'
        f"{''.join(parts)}</svg>"
    )
