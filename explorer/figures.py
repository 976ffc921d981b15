"""Plotly figures built from view tables (no data loading here)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

TEMPLATE = "plotly_white"


def _empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 14})
    fig.update_layout(template=TEMPLATE, xaxis={"visible": False}, yaxis={"visible": False}, height=320)
    return fig


def language_heatmap(langs: pd.DataFrame, group_by: str = "family") -> go.Figure:
    """Models × languages, scores in %, languages grouped by family or resource tier."""
    if langs.empty:
        return _empty("No per-language scores for this selection")
    order = (langs.drop_duplicates("language").sort_values([group_by, "language_name"], na_position="last"))
    labels = [f"{n} ({g})" if isinstance(g, str) else n for n, g in zip(order["language_name"], order[group_by])]
    grid = langs.pivot_table(index="model", columns="language", values="score", aggfunc="mean")
    grid = grid.reindex(columns=order["language"])
    grid = grid.loc[grid.mean(axis=1).sort_values().index]
    fig = go.Figure(go.Heatmap(
        z=(grid.values * 100).round(1), x=labels, y=list(grid.index), colorscale="Viridis", zmin=0, zmax=100,
        colorbar={"title": "score %"}, hovertemplate="%{y}<br>%{x}<br>%{z:.1f}%<extra></extra>",
    ))
    fig.update_layout(template=TEMPLATE, height=max(320, 28 * len(grid) + 160), margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      title=f"Score per language (grouped by {group_by})", xaxis={"tickangle": -45})
    return fig


def language_bars(langs: pd.DataFrame) -> go.Figure:
    """Bars per language for each chosen model, with 95% intervals where a single task is selected."""
    if langs.empty:
        return _empty("No per-language scores for this selection")
    fig = go.Figure()
    for model, g in langs.groupby("model"):
        g = g.sort_values("language_name")
        err = None
        if g["ci_low"].notna().all() and g["ci_high"].notna().all():
            err = {"type": "data", "symmetric": False, "array": (g["ci_high"] - g["score"]) * 100,
                   "arrayminus": (g["score"] - g["ci_low"]) * 100}
        fig.add_bar(name=model, x=g["language_name"], y=g["score"] * 100, error_y=err,
                    hovertemplate="%{x}: %{y:.1f}%<extra>" + model.replace("<", "&lt;") + "</extra>")
    fig.update_layout(template=TEMPLATE, barmode="group", yaxis={"title": "score %", "range": [0, 100]},
                      height=420, title="Score per language", legend={"orientation": "h", "y": -0.25})
    return fig


def category_bars(cats: pd.DataFrame) -> go.Figure:
    if cats.empty:
        return _empty("No per-category scores for this selection")
    fig = go.Figure()
    for model, g in cats.groupby("model"):
        fig.add_bar(name=model, x=g["task"] + " · " + g["category"], y=g["score"] * 100)
    fig.update_layout(template=TEMPLATE, barmode="group", yaxis={"title": "score %", "range": [0, 100]},
                      height=420, title="Score per category (mean over languages)", legend={"orientation": "h", "y": -0.3})
    return fig


def parity_chart(par: pd.DataFrame) -> go.Figure:
    """Each model's worst-to-best language range, with its mean: spread and level side by side."""
    if par.empty:
        return _empty("No models with per-language scores for this selection")
    par = par.sort_values("mean")
    fig = go.Figure()
    for r in par.itertuples():
        fig.add_trace(go.Scatter(x=[r.worst * 100, r.best * 100], y=[r.model, r.model], mode="lines",
                                 line={"color": "#999", "width": 6}, showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=par["worst"] * 100, y=par["model"], mode="markers", name="worst language",
                             marker={"color": "#d62728", "size": 10}, text=par["worst_language"],
                             hovertemplate="worst: %{text} %{x:.1f}%<extra></extra>"))
    fig.add_trace(go.Scatter(x=par["best"] * 100, y=par["model"], mode="markers", name="best language",
                             marker={"color": "#2ca02c", "size": 10}, text=par["best_language"],
                             hovertemplate="best: %{text} %{x:.1f}%<extra></extra>"))
    fig.add_trace(go.Scatter(x=par["mean"] * 100, y=par["model"], mode="markers", name="mean",
                             marker={"color": "#1f77b4", "symbol": "diamond", "size": 11},
                             hovertemplate="mean %{x:.1f}%<extra></extra>"))
    fig.update_layout(template=TEMPLATE, height=max(320, 30 * len(par) + 140), xaxis={"title": "score %", "range": [0, 100]},
                      title="Parity: worst, mean and best language per model", legend={"orientation": "h", "y": -0.2})
    return fig


def parity_scatter(par: pd.DataFrame) -> go.Figure:
    """Mean score against gap: a small gap with a low mean is not parity."""
    if par.empty:
        return _empty("No models with per-language scores for this selection")
    fig = go.Figure(go.Scatter(
        x=par["mean"] * 100, y=par["gap"] * 100, mode="markers", text=par["model"],
        marker={"size": 10, "color": par["n_languages"], "colorscale": "Blues", "showscale": True,
                "colorbar": {"title": "languages"}},
        hovertemplate="%{text}<br>mean %{x:.1f}%<br>gap %{y:.1f} points<extra></extra>",
    ))
    fig.update_layout(template=TEMPLATE, height=420, title="Mean score vs gap between best and worst language",
                      xaxis={"title": "mean score %"}, yaxis={"title": "gap (points)"})
    return fig


def layer_chart(layers: pd.DataFrame) -> go.Figure:
    """Alignment with English per layer, averaged over languages (one line per model)."""
    if layers.empty:
        return _empty("No alignment results for this selection")
    mean = layers.groupby(["model", "layer"], as_index=False)["alignment"].mean()
    fig = go.Figure()
    for model, g in mean.groupby("model"):
        fig.add_scatter(x=g["layer"], y=g["alignment"] * 100, mode="lines+markers", name=model)
    fig.update_layout(template=TEMPLATE, height=380, title="Cross-lingual alignment per layer (mean over languages)",
                      xaxis={"title": "layer (0 = embeddings)"}, yaxis={"title": "alignment %", "range": [0, 100]})
    return fig


def difficulty_chart(diff: pd.DataFrame, top: int = 60) -> go.Figure:
    """Languages ranked by difficulty: mean score of the selected models, hardest first."""
    if diff.empty:
        return _empty("No per-language scores for this selection")
    d = diff.head(top)
    fig = go.Figure(go.Bar(x=d["language_name"], y=d["mean_score"] * 100, marker={"color": d["mean_score"],
                                                                                   "colorscale": "RdYlGn"},
                           customdata=d[["tier", "family", "n_models"]].to_numpy(),
                           hovertemplate="%{x}: %{y:.1f}%<br>tier %{customdata[0]}, %{customdata[1]}<br>"
                                         "%{customdata[2]} models<extra></extra>"))
    fig.update_layout(template=TEMPLATE, height=420, xaxis={"tickangle": -45},
                      yaxis={"title": "mean score %", "range": [0, 100]},
                      title=f"Languages ranked by difficulty (hardest {len(d)} of {len(diff)})")
    return fig


def compare_chart(cmp: pd.DataFrame, model_a: str, model_b: str) -> go.Figure:
    """A − B per task and language; significant cells (Holm-corrected) drawn solid."""
    if cmp.empty:
        return _empty("Nothing to compare: the two models share no task and language")
    labels = cmp["task"] + " · " + cmp["language_name"]
    colors = ["#2ca02c" if d > 0 else "#d62728" for d in cmp["difference"]]
    opacity = [1.0 if s else 0.35 for s in cmp["significant"]]
    fig = go.Figure(go.Bar(x=labels, y=cmp["difference"] * 100, marker={"color": colors, "opacity": opacity},
                           customdata=cmp[["p_holm", "n_items", "method"]].to_numpy(),
                           hovertemplate="%{x}<br>A − B = %{y:.1f} points<br>Holm p = %{customdata[0]:.3g}"
                                         "<br>%{customdata[1]} items, %{customdata[2]}<extra></extra>"))
    fig.update_layout(template=TEMPLATE, height=420, xaxis={"tickangle": -45}, yaxis={"title": "difference (points)"},
                      title=f"{model_a} − {model_b} (solid: significant after Holm correction)")
    return fig
