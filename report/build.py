"""Render the report as one HTML file with plotly.js embedded once, so it works offline.

The page is a list of sections, each built by its own function from `ReportData` (see SECTIONS at
the end): first the headline (the best discovered controller on held-out data against the best
baseline envelope at matched budgets), then per-benchmark/model curves, the savings table (the
same matched-budget rule as the CLI: `replay_core.metrics.compare_curves`), a legend of names,
discovery progress and the best controller's code and diagnosis."""
from __future__ import annotations

import html
import json
import math
import os
from itertools import cycle
from pathlib import Path
from typing import Callable

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from replay_core.metrics import compare_curves, pareto_frontier
from autotts.report.ablations import ablation_figure, ablation_table
from autotts.report.data import ReportData, load
from autotts.report.wording import saving_words, si

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
BAND_OPACITY = 0.10
COLUMNS = 2
SYNTHETIC_MARK = "SYNTHETIC"


# ------------------------------------------------------------------------------ names and helpers
def display_name(controller: str, origin: str) -> str:
    """Family plus a short id: `discovered·3f2a1c` for an explorer's candidate; baselines and user
    modules keep their names. The legend section says what each one is."""
    if origin == "explorer":
        return "discovered·" + controller.removeprefix("candidate-")[:6]
    return controller


def family(origin: str) -> str:
    return {"explorer": "discovered", "baseline": "baseline"}.get(origin, "yours")


def _groups(rows: list[dict]) -> list[tuple[str, str]]:
    return sorted({(r["benchmark"], r["model"]) for r in rows})


def _by_controller(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["controller"], []).append(r)
    return out


def _as_curves(rows: list[dict]) -> list[dict]:
    """Point rows -> the {"controller", "origin", "points"} curves `compare_curves` takes."""
    return [{"controller": name, "origin": pts[0]["origin"], "points": pts} for name, pts in _by_controller(rows).items()]


def _synthetic(rows: list[dict]) -> bool:
    return any(r.get("synthetic") for r in rows)


def log_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Ticks at 1, 2 and 5 times powers of ten between low and high, labelled alike."""
    if not (low > 0 and high > 0):
        return [], []
    values = [m * 10 ** e for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
              for m in (1, 2, 5) if low / 1.5 <= m * 10 ** e <= high * 1.5]
    return values, [si(v) for v in values]


def _percent(share: float | None) -> str:
    return "" if share is None else f"{100 * share:.4f}"


def _comparison_table(rows: list[dict], table_id: str) -> str:
    """One row per group and controller: budgets at or above the envelope, mean gain, token saving."""
    head = ("<tr><th>benchmark</th><th>model</th><th>split</th><th>controller</th><th>budgets at or above the "
            "best baseline</th><th>mean gain (points)</th><th>tokens at the best baseline's accuracy</th></tr>")
    body = "".join(
        f"<tr data-benchmark='{html.escape(r['benchmark'])}' data-model='{html.escape(r['model'])}' "
        f"data-controller='{html.escape(r['controller'])}' data-gain='{_percent(r['mean_gain'])}' "
        f"data-share='{_percent(r['share_at_or_above'])}' "
        f"data-saving='{_percent(r['token_saving'])}'>"
        f"<td>{html.escape(r['benchmark'])}</td><td>{html.escape(r['model'])}</td><td>{html.escape(r['split'])}"
        f"{' (' + SYNTHETIC_MARK + ')' if r['synthetic'] else ''}</td><td>{html.escape(r['name'])}</td>"
        f"<td>{100 * r['share_at_or_above']:.0f}%</td><td>{100 * r['mean_gain']:+.1f}</td><td>{saving_words(r)}</td></tr>"
        for r in rows)
    return f"<table id='{table_id}'>{head}{body}</table>"


def _compare(rows: list[dict], split: str) -> list[dict]:
    """compare_curves per group, with the split, display name and synthetic flag attached."""
    out = []
    for bench, model in _groups(rows):
        members = [r for r in rows if (r["benchmark"], r["model"]) == (bench, model)]
        origin = {r["controller"]: r["origin"] for r in members}
        for c in compare_curves(_as_curves(members)):
            out.append({**c, "split": split, "synthetic": _synthetic(members),
                        "name": display_name(c["controller"], origin[c["controller"]])})
    return out


def _run_rows(data: ReportData, run_id: str, held_out: bool) -> list[dict]:
    return [p for p in data.run_points if p["run_id"] == run_id
            and data.is_search_group(run_id, p["benchmark"], p["model"]) != held_out]


def _split_label(data: ReportData, benchmark: str, model: str) -> str:
    """ — search, — held-out (or both) for a group where discovered controllers are shown."""
    shown = {(c["controller"], c["run_id"]) for c in data.curves if c["origin"] == "explorer"
             and (c["benchmark"], c["model"]) == (benchmark, model)}
    splits = sorted({"search" if data.is_search_group(run_id, benchmark, model) else "held-out" for _, run_id in shown})
    return f" — {' and '.join(splits)}" if splits else ""


# ------------------------------------------------------------------------------ figures
def _axis(fig: go.Figure, values: list[float], title: str, row: int, col: int) -> None:
    ticks, labels = log_ticks(min(values), max(values)) if values else ([], [])
    fig.update_xaxes(type="log", title_text=title, tickvals=ticks, ticktext=labels, row=row, col=col)
    fig.update_yaxes(title_text="accuracy %", row=row, col=col)


def headline_figure(rows: list[dict], best: str, groups: list[tuple[str, str]]) -> go.Figure:
    """Per held-out group: the best discovered controller's curve and the best baseline envelope
    (the Pareto frontier of every baseline point), both as steps: at any budget, the best accuracy
    reachable without spending more, the quantity the comparison averages."""
    cols = min(COLUMNS, len(groups))
    titles = [f"{b} / {m} — held-out" + (f" [{SYNTHETIC_MARK}]" if _synthetic(
        [r for r in rows if (r["benchmark"], r["model"]) == (b, m)]) else "") for b, m in groups]
    fig = make_subplots(rows=-(-len(groups) // cols), cols=cols, subplot_titles=titles, horizontal_spacing=0.08)
    for i, (bench, model) in enumerate(groups):
        row, col = i // cols + 1, i % cols + 1
        members = [r for r in rows if (r["benchmark"], r["model"]) == (bench, model)]
        base = [r for r in members if r["origin"] == "baseline"]
        front = [base[j] for j in pareto_frontier(np.array([r["tokens"] for r in base]), np.array([r["accuracy"] for r in base]))]
        fig.add_trace(go.Scatter(x=[r["tokens"] for r in front], y=[100 * r["accuracy"] for r in front], mode="lines+markers",
                                 line={"color": "black", "shape": "hv", "dash": "dot"}, name="best baseline envelope",
                                 legendgroup="envelope", showlegend=i == 0, hovertext=[r["controller"] for r in front]),
                      row=row, col=col)
        mine = sorted((r for r in members if r["controller"] == best), key=lambda r: r["tokens"])
        fig.add_trace(go.Scatter(x=[r["tokens"] for r in mine], y=[100 * r["accuracy"] for r in mine], mode="lines+markers",
                                 line={"color": PALETTE[3], "width": 3, "shape": "hv"}, name=display_name(best, "explorer"),
                                 legendgroup="best", showlegend=i == 0), row=row, col=col)
        _axis(fig, [r["tokens"] for r in members], "tokens per question", row, col)
    fig.update_layout(height=400 * (-(-len(groups) // cols)) + 60, template="plotly_white",
                      legend={"orientation": "h", "y": -0.15}, margin={"t": 50, "l": 50, "r": 20, "b": 60})
    return fig


def scaling_figure(data: ReportData, x: str, title: str) -> go.Figure:
    """One panel per (benchmark, model): each controller's curve; a light 95 % band only for the
    best curve of each family (baselines, discovered, yours), so bands do not merge; the joint
    Pareto frontier in black steps; SYNTHETIC in the title of panels whose data are synthetic."""
    groups = _groups(data.curves)
    cols = min(COLUMNS, max(1, len(groups)))
    rows = -(-len(groups) // cols)
    titles = [f"{b} / {m}" + _split_label(data, b, m) + (f" [{SYNTHETIC_MARK}]" if _synthetic(
        [c for c in data.curves if (c["benchmark"], c["model"]) == (b, m)]) else "") for b, m in groups]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.08,
                        vertical_spacing=min(0.5 / max(rows, 1), 0.12))
    colors: dict[str, str] = {}
    palette = cycle(PALETTE)
    for i, (bench, model) in enumerate(groups):
        row, col = i // cols + 1, i % cols + 1
        members = [c for c in data.curves if (c["benchmark"], c["model"]) == (bench, model)]
        curves = _by_controller(members)
        banded = {max((n for n in curves if family(curves[n][0]["origin"]) == f), key=lambda n: max(p["accuracy"] for p in curves[n]))
                  for f in {family(p[0]["origin"]) for p in curves.values()}}
        for name, pts in curves.items():
            pts = sorted(pts, key=lambda p: p[x])
            label = display_name(name, pts[0]["origin"])
            first = label not in colors  # one legend entry per controller, at its first panel
            color = colors.setdefault(label, next(palette))
            xs = [p[x] for p in pts]
            if name in banded:
                fig.add_trace(go.Scatter(x=xs + xs[::-1], y=[100 * p["accuracy_high"] for p in pts] +
                                         [100 * p["accuracy_low"] for p in pts][::-1], fill="toself", fillcolor=color,
                                         opacity=BAND_OPACITY, line={"width": 0}, hoverinfo="skip", showlegend=False,
                                         legendgroup=label), row=row, col=col)
            dash = "dot" if pts[0]["origin"] == "baseline" else "solid"
            fig.add_trace(go.Scatter(x=xs, y=[100 * p["accuracy"] for p in pts], mode="lines+markers", name=label,
                                     legendgroup=label, showlegend=first,
                                     line={"color": color, "dash": dash, "width": 2 if dash == "dot" else 3},
                                     customdata=[[p["beta"], p["tokens"], p["rounds"], 100 * p["accuracy_low"],
                                                  100 * p["accuracy_high"]] for p in pts],
                                     hovertemplate=f"{label}<br>β=%{{customdata[0]:.2f}}<br>accuracy %{{y:.1f}}% "
                                                   "(95% CI %{customdata[3]:.1f}–%{customdata[4]:.1f})<br>"
                                                   "tokens %{customdata[1]:,.0f}<br>rounds %{customdata[2]:.1f}<extra></extra>"),
                          row=row, col=col)
        front = pareto_frontier(np.array([p[x] for p in members]), np.array([p["accuracy"] for p in members]))
        fig.add_trace(go.Scatter(x=[members[j][x] for j in front], y=[100 * members[j]["accuracy"] for j in front],
                                 mode="lines", line={"color": "black", "width": 1.5, "shape": "hv"}, name="Pareto frontier",
                                 legendgroup="frontier", showlegend=i == 0,
                                 hovertext=[display_name(members[j]["controller"], members[j]["origin"]) for j in front]),
                      row=row, col=col)
        _axis(fig, [p[x] for p in members], title, row, col)
    fig.update_layout(height=400 * rows + 80, template="plotly_white", legend={"orientation": "h", "y": -0.06},
                      margin={"t": 60, "l": 50, "r": 20, "b": 60})
    return fig


def progress_figure(data: ReportData) -> go.Figure | None:
    if not data.rounds:
        return None
    fig = make_subplots(rows=1, cols=2, subplot_titles=("score per round", "cost and time per round"),
                        specs=[[{}, {"secondary_y": True}]])
    for run_id in sorted({r["run_id"] for r in data.rounds}):
        rounds = [r for r in data.rounds if r["run_id"] == run_id]
        cands = [c for c in data.candidates if c["run_id"] == run_id]
        ok = [c for c in cands if c["status"] == "evaluated"]
        bad = [c for c in cands if c["status"] == "failed"]
        fig.add_trace(go.Scatter(x=[c["round"] for c in ok], y=[c["score"] for c in ok], mode="markers",
                                 name=f"{run_id}: candidates", marker={"size": 7, "opacity": 0.6},
                                 hovertext=[display_name(c["controller_id"], "explorer") for c in ok]), row=1, col=1)
        fig.add_trace(go.Scatter(x=[r["round"] for r in rounds], y=[r["best_so_far"] for r in rounds],
                                 mode="lines+markers", name=f"{run_id}: best so far"), row=1, col=1)
        if bad:
            fig.add_trace(go.Scatter(x=[c["round"] for c in bad], y=[0] * len(bad), mode="markers",
                                     marker={"symbol": "x", "color": "red", "size": 9}, name=f"{run_id}: failed",
                                     hovertext=[c["error"] for c in bad]), row=1, col=1)
        fig.add_trace(go.Bar(x=[r["round"] for r in rounds], y=[r["cost_usd"] for r in rounds], name=f"{run_id}: $ cost",
                             opacity=0.6), row=1, col=2, secondary_y=False)
        fig.add_trace(go.Scatter(x=[r["round"] for r in rounds], y=[r["seconds"] for r in rounds], mode="lines+markers",
                                 name=f"{run_id}: seconds"), row=1, col=2, secondary_y=True)
    fig.update_xaxes(title_text="round")
    fig.update_yaxes(title_text="score", row=1, col=1)
    fig.update_yaxes(title_text="USD", row=1, col=2, secondary_y=False)
    fig.update_yaxes(title_text="seconds", row=1, col=2, secondary_y=True)
    fig.update_layout(height=420, template="plotly_white", margin={"t": 60, "l": 50, "r": 20, "b": 40})
    return fig


# ------------------------------------------------------------------------------ sections
def headline_section(data: ReportData) -> str:
    """Per discovery run with held-out data: its best controller against the best baseline envelope
    on the held-out groups, the gain in points and the token saving; the search-split gain beside
    it, labelled as the number the controller was selected on."""
    parts = []
    for best in data.best:
        name = f"candidate-{best['controller_id']}"
        rows = _run_rows(data, best["run_id"], held_out=True)
        comparison = [r for r in _compare(rows, "held-out") if r["controller"] == name]
        if not comparison:
            continue
        groups = [(r["benchmark"], r["model"]) for r in comparison]
        gain = np.mean([r["mean_gain"] for r in comparison])
        parts.append(
            f"<h2>Headline: {html.escape(display_name(name, 'explorer'))} (discovery run {html.escape(best['run_id'])}) "
            "vs the best baseline at matched budgets</h2>"
            f"<p class='headline'><b>Held-out: {100 * gain:+.1f} points</b> mean accuracy gain over the best baseline "
            f"envelope across {len(groups)} held-out benchmark/model group(s). Search split (where it was selected, so "
            f"optimistic): {100 * (best['gain'] or 0):+.1f} points.</p>"
            + _comparison_table(comparison, "headline")
            + _div(headline_figure(rows, name, groups), f"headline-{best['run_id']}"))
    if not parts and data.best:
        parts.append("<h2>Headline</h2><p>No held-out evaluation yet: run <code>autotts discover</code> with "
                     "<code>--holdout-benchmarks</code> or <code>--holdout-models</code>.</p>")
    return "".join(parts)


def curves_section(data: ReportData) -> str:
    if not data.curves:
        return ("<p>No evaluations in this warehouse yet: run <code>autotts evaluate --warehouse</code> "
                "or <code>autotts discover</code>.</p>")
    return ("<h2>Accuracy vs tokens, per benchmark and model</h2><p>Mean tokens per question (log scale); dotted: "
            "baselines; light band: 95 % bootstrap interval over questions for the best curve of each family "
            "(every curve's interval is in its hover); black steps: the joint Pareto frontier. Latest evaluation "
            "of each controller.</p>"
            + _div(scaling_figure(data, "tokens", "tokens per question"), "curves-tokens")
            + "<h2>Accuracy vs latency</h2><p>Sequential generation rounds per question.</p>"
            + _div(scaling_figure(data, "rounds", "rounds"), "curves-rounds"))


def savings_section(data: ReportData) -> str:
    """Every discovered or user controller against the best baseline envelope of its group, by the
    CLI's matched-budget rule; discovery runs compare within the run, search and held-out labelled."""
    shown = {c["controller"] for c in data.curves}  # on the search split, only the candidates the figures show
    rows = []
    for run_id in sorted({p["run_id"] for p in data.run_points}):
        rows += _compare(_run_rows(data, run_id, held_out=True), f"held-out (run {run_id})")
        rows += [r for r in _compare(_run_rows(data, run_id, held_out=False), f"search (run {run_id})")
                 if r["controller"] in shown]
    rows += _compare([c for c in data.curves if c["origin"] != "explorer"], "latest evaluations")
    if not rows:
        return ""
    return ("<h2>Matched-budget comparison with the best baseline</h2><p>Over log-spaced budgets spanning the "
            "baselines' costs: the share of budgets where the controller is at least as accurate as the best "
            "baseline there, the mean gain, and the tokens it needs to reach the best accuracy any baseline "
            "reaches. The same rule as <code>autotts discover</code>'s held-out table.</p>"
            + _comparison_table(rows, "savings"))


def legend_section(data: ReportData) -> str:
    """What each name in the figures and tables is."""
    seen = {}
    for c in data.curves + data.run_points:
        seen.setdefault(display_name(c["controller"], c["origin"]), c)
    found = {c["controller_id"]: c for c in data.candidates}
    items = []
    for label, c in sorted(seen.items()):
        if c["origin"] == "baseline":
            info = data.baseline_info.get(c["controller"].split("(")[0], {})
            what = f"baseline: {info.get('title', c['controller'])}. {info.get('summary', '')}"
        elif c["origin"] == "explorer":
            cand = found.get(c["controller"].removeprefix("candidate-"), {})
            what = (f"discovered controller {c['controller'].removeprefix('candidate-')}, proposed in round "
                    f"{cand.get('round', '?')} of run {cand.get('run_id', '?')}; search score {cand.get('score') or 0:.4f}")
        else:
            what = "your controller module"
        items.append(f"<tr><td>{html.escape(label)}</td><td>{html.escape(what)}</td></tr>")
    if not items:
        return ""
    return "<h2>Legend</h2><table id='legend'><tr><th>name</th><th>what it is</th></tr>" + "".join(items) + "</table>"


def progress_section(data: ReportData) -> str:
    fig = progress_figure(data)
    return "" if fig is None else "<h2>Discovery progress</h2>" + _div(fig, "discovery-progress")


def best_controller_section(data: ReportData) -> str:
    return "".join(
        f"<h2>Best controller of discovery run {html.escape(b['run_id'])}: "
        f"{html.escape(display_name(b['controller_id'], 'explorer'))}</h2><p>id {html.escape(b['controller_id'])}, "
        f"round {b['round']}, search score {b['score']:.4f}, search-split gain over the best baseline "
        f"{100 * (b['gain'] or 0):+.1f} points</p>"
        f"<h3>Execution-trace diagnosis</h3><pre class='diagnosis'>{html.escape(b['feedback'] or '')}</pre>"
        f"<h3>Source</h3><pre class='source'>{html.escape(b['source'])}</pre>" for b in data.best)


def isolation_section(data: ReportData) -> str:
    if not data.unisolated_runs:
        return ""
    return ("<p class='warning'><b>Without OS isolation:</b> discovery run(s) "
            f"{html.escape(', '.join(data.unisolated_runs))} ran LLM-written candidates with --unsafe-no-isolation "
            "(resource limits only; see docs/security.md).</p>")


def conversations_section(data: ReportData) -> str:
    if not data.conversations:
        return ""
    return ("<h2>Explorer conversations</h2><p>What the LLM explorer was told and answered, tool calls and their "
            "results included (long texts shortened; the warehouse keeps them whole).</p>"
            + "".join(conversation_html(turns) for turns in _by_conversation(data.conversations)))


def ablations_section(data: ReportData) -> str:
    if not data.ablations:
        return ""
    return ("<h2>Ablations</h2><p>Best search score found versus candidates proposed, for discovery with all "
            "switches, without β-parameterisation and without trace feedback (mean over seeds; band: min to max), "
            "and each variant's champion on held-out data (gain over the best baseline at matched budgets).</p>"
            + _div(ablation_figure(data.ablations), "ablations-figure") + ablation_table(data.ablations))


def champions_section(data: ReportData) -> str:
    if not data.champions:
        return ""
    body = "".join(
        f"<tr><td>{html.escape(c['run_id'])}</td><td>{c['started_at']:%Y-%m-%d %H:%M}</td>"
        f"<td>{html.escape(c['search_benchmarks'])} / {html.escape(c['search_models'])}</td>"
        f"<td>{html.escape(c['controller_id'])}{' (new)' if c['new_champion'] else ''}</td><td>{c['score']:.4f}</td>"
        f"<td>{100 * (c['gain_over_best_baseline'] or 0):+.1f} pts</td>"
        f"<td>{'' if c['lead_in_score'] is None else format(c['lead_in_score'], '+.4f')}</td>"
        f"<td>{c['leading_since']:%Y-%m-%d %H:%M}</td></tr>" for c in data.champions)
    return ("<h2>Champion history</h2><p>The champion each discovery run chose (score: area under accuracy over "
            "the baselines' budget range; gain: mean accuracy over the best baseline at matched budgets), its lead "
            "in score over the run's runner-up, and since when it has led runs of its search split.</p>"
            "<table id='champions'><tr><th>run</th><th>started</th><th>search split</th><th>champion</th><th>score</th>"
            f"<th>gain over best baseline</th><th>lead over runner-up</th><th>leading since</th></tr>{body}</table>")


# The page, top to bottom.
SECTIONS: tuple[Callable[[ReportData], str], ...] = (
    isolation_section, headline_section, curves_section, savings_section, legend_section, progress_section, ablations_section,
    champions_section, best_controller_section, conversations_section)


def render(data: ReportData, title: str = "AutoTTS report") -> str:
    label = f" — {SYNTHETIC_MARK} data" if data.synthetic else ""
    style = ("body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1400px;color:#222}"
             "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}"
             ".headline{font-size:1.2em}pre{background:#f6f8fa;padding:12px;overflow:auto;font-size:12px}")
    body = "\n".join(part for part in (section(data) for section in SECTIONS) if part)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}{label}</title>"
            f"<style>{style}</style><script type='text/javascript'>{get_plotlyjs()}</script></head><body>"
            f"<h1>{html.escape(title)}{label}</h1>\n{body}</body></html>")


def _by_conversation(rows: list[dict]) -> list[list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row["conversation"], []).append(row)
    return list(out.values())


def _block_text(block: object, limit: int) -> str:
    """One message part as plain text: text, a tool call with its arguments, or a tool result."""
    if isinstance(block, str):
        text = block
    elif block.get("type") == "tool_use":
        args = ", ".join(f"{k}={v!r}" if k != "source" else f"source=<{len(v)} chars>\n{v}"
                         for k, v in (block.get("input") or {}).items()) if isinstance(block.get("input"), dict) else ""
        text = f"→ {block.get('name')}({args})"
    elif block.get("type") == "tool_result":
        text = ("← error: " if block.get("is_error") else "← ") + str(block.get("content", ""))
    else:
        text = str(block.get("text", block))
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit} more characters)"


def conversation_html(turns: list[dict], limit: int = 3000) -> str:
    """One conversation as a collapsed block: a summary line, then every turn."""
    first = turns[0]
    cost = sum(t["cost_usd"] for t in turns)
    tools = sum(t["tool_calls"] for t in turns)
    summary = (f"run {first['run_id']}, round {first['round']}, {first['explorer']}: {len(turns)} turns, "
               f"{tools} tool calls, {sum(t['output_tokens'] for t in turns)} output tokens, ${cost:.4f}")
    body = []
    for t in turns:
        content = json.loads(t["content"])
        parts = content if isinstance(content, list) else [content]
        text = "\n".join(_block_text(part, limit) for part in parts)
        body.append(f"<p><b>{html.escape(t['role'])}</b></p><pre class='turn'>{html.escape(text)}</pre>")
    return f"<details class='conversation'><summary>{html.escape(summary)}</summary>{''.join(body)}</details>"


def _div(fig: go.Figure, div_id: str) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id)


def write_report(warehouse: str | Path, out: str | Path, run_ids: list[str] | None = None) -> Path:
    """Build the report and write it atomically; returns its path."""
    text = render(load(warehouse, run_ids))
    out = Path(out)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    return out
