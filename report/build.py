"""Render the report: scaling curves with bootstrap bands and the Pareto frontier, the same
against latency, discovery progress, a savings table and the best controller's code and diagnosis.
One HTML file with plotly.js embedded once, so it works offline."""
from __future__ import annotations

import html
import os
from itertools import cycle
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from replay_core.metrics import pareto_frontier, tokens_to_reach
from report.data import ReportData, load

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _groups(data: ReportData) -> list[tuple[str, str]]:
    return sorted({(c["benchmark"], c["model"]) for c in data.curves})


def _by_controller(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["controller"], []).append(r)
    return out


def scaling_figure(data: ReportData, x: str, title: str, log_x: bool) -> go.Figure:
    """One panel per (benchmark, model): each controller's curve with its 95 % band; the joint
    Pareto frontier of all points drawn on top."""
    groups = _groups(data)
    cols = min(3, max(1, len(groups)))
    rows = -(-len(groups) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"{b} / {m}" for b, m in groups],
                        horizontal_spacing=0.06, vertical_spacing=0.16)
    colors: dict[str, str] = {}
    palette = cycle(PALETTE)
    for i, (bench, model) in enumerate(groups):
        row, col = i // cols + 1, i % cols + 1
        members = [c for c in data.curves if (c["benchmark"], c["model"]) == (bench, model)]
        for name, pts in _by_controller(members).items():
            pts = sorted(pts, key=lambda p: p[x])
            first = name not in colors  # one legend entry per controller, at its first panel
            color = colors.setdefault(name, next(palette))
            xs = [p[x] for p in pts]
            dash = "solid" if pts[0]["origin"] != "baseline" else "dot"
            fig.add_trace(go.Scatter(x=xs + xs[::-1], y=[100 * p["accuracy_high"] for p in pts] +
                                     [100 * p["accuracy_low"] for p in pts][::-1], fill="toself", fillcolor=color,
                                     opacity=0.12, line={"width": 0}, hoverinfo="skip", showlegend=False,
                                     legendgroup=name), row=row, col=col)
            fig.add_trace(go.Scatter(x=xs, y=[100 * p["accuracy"] for p in pts], mode="lines+markers", name=name,
                                     legendgroup=name, showlegend=first,
                                     line={"color": color, "dash": dash, "width": 3 if dash == "solid" else 2},
                                     customdata=[[p["beta"], p["tokens"], p["rounds"]] for p in pts],
                                     hovertemplate=f"{name}<br>β=%{{customdata[0]:.2f}}<br>accuracy %{{y:.1f}}%<br>"
                                                   "tokens %{customdata[1]:,.0f}<br>rounds %{customdata[2]:.1f}<extra></extra>"),
                          row=row, col=col)
        front = pareto_frontier(np.array([p[x] for p in members]), np.array([p["accuracy"] for p in members]))
        fx = [members[j][x] for j in front]
        fig.add_trace(go.Scatter(x=fx, y=[100 * members[j]["accuracy"] for j in front], mode="lines",
                                 line={"color": "black", "width": 1.5, "shape": "hv"}, name="Pareto frontier",
                                 legendgroup="frontier", showlegend=i == 0,
                                 hovertext=[members[j]["controller"] for j in front]), row=row, col=col)
        fig.update_xaxes(type="log" if log_x else "linear", title_text=title, row=row, col=col)
        fig.update_yaxes(title_text="accuracy %", row=row, col=col)
    fig.update_layout(height=360 * rows + 80, template="plotly_white", legend={"orientation": "h", "y": -0.08},
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
                                 hovertext=[c["controller_id"] for c in ok]), row=1, col=1)
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


def savings_rows(data: ReportData) -> list[dict]:
    """Per group and non-baseline controller: tokens needed to reach SC@64 (the thorough end of
    SC's curve) relative to SC's, and its best accuracy."""
    rows = []
    for bench, model in _groups(data):
        members = [c for c in data.curves if (c["benchmark"], c["model"]) == (bench, model)]
        sc = [c for c in members if c["controller"].startswith("sc")]
        if not sc:
            continue
        top = max(sc, key=lambda p: p["tokens"])
        for name, pts in _by_controller([c for c in members if c["origin"] != "baseline"]).items():
            need = tokens_to_reach(np.array([p["tokens"] for p in pts]), np.array([p["accuracy"] for p in pts]), top["accuracy"])
            rows.append({"benchmark": bench, "model": model, "controller": name,
                         "best accuracy": max(p["accuracy"] for p in pts), "sc_accuracy": top["accuracy"],
                         "share": need / top["tokens"] if np.isfinite(need) else None})
    return rows


def render(data: ReportData, title: str = "AutoTTS report") -> str:
    label = " — SYNTHETIC data" if data.synthetic else ""
    sections = [f"<h1>{html.escape(title)}{label}</h1>"]
    if data.unisolated_runs:
        sections.append("<p class='warning'><b>Without OS isolation:</b> discovery run(s) "
                        f"{html.escape(', '.join(data.unisolated_runs))} ran LLM-written candidates with "
                        "--unsafe-no-isolation (resource limits only; see docs/security.md).</p>")
    if not data.curves:
        sections.append("<p>No evaluations in this warehouse yet: run <code>autotts evaluate --warehouse</code> "
                        "or <code>autotts discover</code>.</p>")
    else:
        sections.append("<h2>Accuracy vs tokens</h2><p>Mean tokens per question; bands: 95 % bootstrap over "
                        "questions; dotted: baselines; black steps: the joint Pareto frontier.</p>")
        sections.append(_div(scaling_figure(data, "tokens", "tokens per question", True), "curves-tokens"))
        sections.append("<h2>Accuracy vs latency</h2><p>Sequential generation rounds per question.</p>")
        sections.append(_div(scaling_figure(data, "rounds", "rounds", True), "curves-rounds"))
    progress = progress_figure(data)
    if progress is not None:
        sections.append("<h2>Discovery progress</h2>")
        sections.append(_div(progress, "discovery-progress"))
    rows = savings_rows(data)
    if rows:
        body = "".join(
            f"<tr><td>{html.escape(r['benchmark'])}</td><td>{html.escape(r['model'])}</td><td>{html.escape(r['controller'])}</td>"
            f"<td>{100 * r['best accuracy']:.1f}%</td><td>"
            + (f"reaches SC@64 accuracy ({100 * r['sc_accuracy']:.1f}%) with {100 * r['share']:.0f}% of its tokens"
               if r["share"] is not None else f"does not reach SC@64 accuracy ({100 * r['sc_accuracy']:.1f}%)")
            + "</td></tr>" for r in rows)
        sections.append("<h2>Savings</h2><table id='savings'><tr><th>benchmark</th><th>model</th><th>controller</th>"
                        f"<th>best accuracy</th><th>vs SC@64</th></tr>{body}</table>")
    for best in data.best:
        sections.append(f"<h2>Best controller of discovery run {html.escape(best['run_id'])}: "
                        f"{html.escape(best['controller_id'])}</h2><p>round {best['round']}, score {best['score']:.4f}, "
                        f"gain over the best baseline {100 * (best['gain'] or 0):+.1f} points</p>"
                        f"<h3>Execution-trace diagnosis</h3><pre class='diagnosis'>{html.escape(best['feedback'] or '')}</pre>"
                        f"<h3>Source</h3><pre class='source'>{html.escape(best['source'])}</pre>")
    style = ("body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1400px;color:#222}"
             "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}"
             "pre{background:#f6f8fa;padding:12px;overflow:auto;font-size:12px}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}{label}</title>"
            f"<style>{style}</style><script type='text/javascript'>{get_plotlyjs()}</script></head><body>"
            + "\n".join(sections) + "</body></html>")


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
