"""The report's ablation figure and table: best score found versus candidates tried, with and
without beta-parameterisation and trace feedback (mean over seeds, min-max band), and the
champions' held-out gains; drawn when the warehouse holds discovery runs of at least two variants."""
from __future__ import annotations

import html

import plotly.graph_objects as go

from autotts.explorer.ablation import AblationSummary

COLORS = {"full": "#1f77b4", "no-beta": "#d62728", "no-feedback": "#2ca02c"}


def ablation_figure(summaries: list[AblationSummary]) -> go.Figure:
    fig = go.Figure()
    for s in summaries:
        x = list(range(1, len(s.curve_mean) + 1))
        color = COLORS.get(s.variant, "#7f7f7f")
        fig.add_trace(go.Scatter(x=x + x[::-1], y=list(s.curve_high) + list(s.curve_low)[::-1], fill="toself",
                                 fillcolor=color, opacity=0.15, line={"width": 0}, hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=x, y=list(s.curve_mean), mode="lines", name=f"{s.variant} ({s.runs} seeds)",
                                 line={"color": color, "width": 3}))
    fig.update_layout(height=380, template="plotly_white", xaxis_title="candidates proposed",
                      yaxis_title="best search score so far", margin={"t": 30, "l": 60, "r": 20, "b": 50},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def ablation_table(summaries: list[AblationSummary]) -> str:
    rows = "".join(f"<tr><td>{html.escape(s.variant)}</td><td>{s.runs}</td><td>{s.final_mean:.4f} ± {s.final_spread:.4f}"
                   f"</td><td>{100 * s.holdout_gain_mean:+.1f} ± {100 * s.holdout_gain_spread:.1f} points</td></tr>"
                   for s in summaries)
    return ("<table id='ablations'><tr><th>variant</th><th>seeds</th><th>best search score</th>"
            f"<th>champion's held-out gain over the best baseline</th></tr>{rows}</table>")
