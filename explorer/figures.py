"""Plotly figures built from view tables (no data loading here)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

TEMPLATE = "plotly_white"
ROW_PX = 18  # height of one labelled row (a language, a model) in the tall charts
STRIP_FROM = 30  # more languages than this: a dot plot with one row per language instead of grouped bars
# A colour bar of fixed length with ticks every 20 points: readable however tall the chart grows.
SCORE_BAR = {"title": "score %", "tickvals": [0, 20, 40, 60, 80, 100], "len": 260, "lenmode": "pixels",
             "thickness": 14, "y": 1.0, "yanchor": "top", "xref": "container", "x": 1.0, "xanchor": "right"}


def _header(height: int, title: str, legend_rows: int = 0) -> dict:
    """Title and legend pinned in pixels to the top of a chart of ``height`` px, clear of the top axis."""
    layout = {"title": {"text": title, "yref": "container", "y": 1 - 12 / height, "yanchor": "top"}}
    if legend_rows:
        layout["legend"] = {"orientation": "h", "yref": "container", "y": 1 - 44 / height, "yanchor": "top", "x": 0}
    return layout


def add_chance_line(fig: go.Figure, chance: float | None, axis: str = "y") -> go.Figure:
    """A dashed line labelled "chance" at the score of random guessing (a fraction), across the plot.
    ``axis`` is the score axis ("y" for vertical bars, "x" for dot plots and horizontal ranges)."""
    if chance is None:
        return fig
    line = {"dash": "dash", "color": "#555", "width": 1.5}
    if axis == "y":
        fig.add_hline(y=chance * 100, line=line, annotation_text="chance", annotation_position="top right",
                      annotation_font={"size": 11, "color": "#555"}, layer="below")
    else:
        fig.add_vline(x=chance * 100, line=line, annotation_text="chance", annotation_position="bottom right",
                      annotation_font={"size": 11, "color": "#555"}, layer="below")
    return fig


def _empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 14})
    fig.update_layout(template=TEMPLATE, xaxis={"visible": False}, yaxis={"visible": False}, height=320)
    return fig


def _language_rows(langs: pd.DataFrame, group_by: str) -> pd.DataFrame:
    """One row per language in display order (grouped, then by name) with a label unique among the rows."""
    order = langs.drop_duplicates("language").copy()
    order["group"] = order[group_by].fillna("other") if group_by in order else "all"
    order = order.sort_values(["group", "language_name"])
    dup = order["language_name"].duplicated(keep=False)
    order["label"] = order["language_name"].where(~dup, order["language_name"] + " (" + order["language"] + ")")
    return order


def language_heatmap(langs: pd.DataFrame, group_by: str = "family") -> go.Figure:
    """Languages × models, scores in %: one labelled row per language, grouped by family or resource tier
    with a separator and the group's name, so 200 languages stay readable (the chart grows in height)."""
    if langs.empty:
        return _empty("No per-language scores for this selection")
    rows = _language_rows(langs, group_by)
    grid = langs.pivot_table(index="language", columns="model", values="score", aggfunc="mean")
    grid = grid.reindex(index=rows["language"])
    grid = grid[grid.mean(axis=0).sort_values(ascending=False).index]
    fig = go.Figure(go.Heatmap(
        z=(grid.values * 100).round(1), x=list(grid.columns), y=list(rows["label"]), colorscale="Viridis",
        zmin=0, zmax=100, colorbar=SCORE_BAR, xgap=1, ygap=1,
        hovertemplate="%{y}<br>%{x}<br>%{z:.1f}%<extra></extra>",
    ))
    groups = rows["group"].tolist()
    starts = [i for i in range(len(groups)) if i == 0 or groups[i] != groups[i - 1]]
    for k, i in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(groups)
        if i:
            fig.add_shape(type="line", xref="paper", x0=0, x1=1, y0=i - 0.5, y1=i - 0.5, line={"color": "white", "width": 3})
        fig.add_annotation(text=f"<b>{groups[i]}</b>", xref="paper", x=1.0, xanchor="left", y=(i + end - 1) / 2,
                           showarrow=False, font={"size": 11})
    height = max(320, ROW_PX * len(rows) + 240)
    fig.update_layout(
        template=TEMPLATE, height=height, margin={"l": 10, "r": 230, "t": 150, "b": 10},
        **_header(height, f"Score per language (grouped by {group_by})"),
        xaxis={"side": "top", "tickangle": -30, "automargin": True},
        yaxis={"autorange": "reversed", "tickmode": "array", "tickvals": list(rows["label"]),
               "tickfont": {"size": 11}, "automargin": True},
    )
    return fig


def language_bars(langs: pd.DataFrame, chance: float | None = None) -> go.Figure:
    """Score per language for each chosen model with 95% intervals (where a single task is selected):
    grouped bars for a few languages, a dot plot with one labelled row per language beyond STRIP_FROM.
    ``chance``: the selected task's chance level, drawn as a dashed line (None: none drawn)."""
    if langs.empty:
        return _empty("No per-language scores for this selection")
    if langs["language"].nunique() > STRIP_FROM:
        return add_chance_line(_language_dots(langs), chance, axis="x")
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
                      xaxis={"tickangle": -45, "automargin": True}, height=480, margin={"t": 110},
                      **_header(480, "Score per language", legend_rows=2))
    return add_chance_line(fig, chance)


def _language_dots(langs: pd.DataFrame) -> go.Figure:
    order = langs.groupby("language_name")["score"].mean().sort_values()  # hardest at the bottom
    fig = go.Figure()
    for model, g in langs.groupby("model"):
        g = g.set_index("language_name").reindex(order.index).dropna(subset=["score"])
        err = None
        if g["ci_low"].notna().all() and g["ci_high"].notna().all():
            err = {"type": "data", "symmetric": False, "array": (g["ci_high"] - g["score"]) * 100,
                   "arrayminus": (g["score"] - g["ci_low"]) * 100, "thickness": 1}
        fig.add_scatter(name=model, x=g["score"] * 100, y=g.index, mode="markers", error_x=err, marker={"size": 7},
                        hovertemplate="%{y}: %{x:.1f}%<extra>" + model.replace("<", "&lt;") + "</extra>")
    height = max(420, ROW_PX * len(order) + 220)
    fig.update_layout(template=TEMPLATE, height=height, margin={"t": 150},
                      **_header(height, f"Score per language, % ({len(order)} languages, sorted by the mean)", 2),
                      xaxis={"range": [0, 100], "side": "top"},
                      yaxis={"tickmode": "array", "tickvals": list(order.index), "tickfont": {"size": 11},
                             "range": [-0.5, len(order) - 0.5], "automargin": True})
    return fig


def category_bars(cats: pd.DataFrame, chance_by_task: dict | None = None) -> go.Figure:
    """Score per task and category. Tasks differ in chance level, so it is drawn per task: a dashed
    segment over that task's bars only (``chance_by_task``: task -> fraction; tasks without one get none)."""
    if cats.empty:
        return _empty("No per-category scores for this selection")
    fig = go.Figure()
    order: list[str] = []  # the category axis in the order plotly draws it (first appearance)
    for model, g in cats.groupby("model"):
        x = g["task"] + " · " + g["category"]
        order += [v for v in x if v not in order]
        fig.add_bar(name=model, x=x, y=g["score"] * 100)
    for task, chance in (chance_by_task or {}).items():
        at = [i for i, v in enumerate(order) if v.startswith(f"{task} · ")]
        if chance is None or not at:
            continue
        fig.add_shape(type="line", xref="x", yref="y", x0=min(at) - 0.45, x1=max(at) + 0.45, y0=chance * 100,
                      y1=chance * 100, line={"dash": "dash", "color": "#555", "width": 1.5}, name="chance")
        fig.add_annotation(x=order[max(at)], xref="x", y=chance * 100, yref="y", text="chance", showarrow=False,
                           yanchor="bottom", font={"size": 10, "color": "#555"})
    fig.update_layout(template=TEMPLATE, barmode="group", yaxis={"title": "score %", "range": [0, 100]},
                      height=420, title="Score per category (mean over languages)", legend={"orientation": "h", "y": -0.3})
    return fig


def parity_chart(par: pd.DataFrame, chance: float | None = None) -> go.Figure:
    """Each model's worst-to-best language range, with its mean: spread and level side by side; ``chance``
    as in language_bars (a worst language at chance level is not a low score, it is no signal)."""
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
    return add_chance_line(fig, chance, axis="x")


def parity_scatter(par: pd.DataFrame, chance: float | None = None) -> go.Figure:
    """Mean score against gap: a small gap with a low mean is not parity. Colour: number of languages, on a
    scale from the fewest to the most in the selection (so 4 and 200 languages are both distinct)."""
    if par.empty:
        return _empty("No models with per-language scores for this selection")
    lo, hi = int(par["n_languages"].min()), int(par["n_languages"].max())
    fig = go.Figure(go.Scatter(
        x=par["mean"] * 100, y=par["gap"] * 100, mode="markers", text=par["model"], customdata=par["n_languages"],
        marker={"size": 11, "color": par["n_languages"], "colorscale": "Viridis", "cmin": lo, "cmax": max(hi, lo + 1),
                "showscale": True, "line": {"width": 1, "color": "#333"},
                "colorbar": {"title": "languages", "len": 260, "lenmode": "pixels", "thickness": 14}},
        hovertemplate="%{text}<br>mean %{x:.1f}%<br>gap %{y:.1f} points<br>%{customdata} languages<extra></extra>",
    ))
    fig.update_layout(template=TEMPLATE, height=440, title="Mean score vs gap between best and worst language",
                      xaxis={"title": "mean score %", "range": [0, 100]}, yaxis={"title": "gap (points)", "rangemode": "tozero"})
    return add_chance_line(fig, chance, axis="x")


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
    """Languages ranked by difficulty, hardest at the top, on a fixed 0-100 colour-blind-safe scale; the
    title says what is averaged (see views.language_difficulty for which cells count)."""
    if diff.empty:
        return _empty("No language is covered by enough of the selected models to rank it")
    d = diff.head(top)
    n_models = int(diff["n_models"].max())
    fig = go.Figure(go.Bar(
        y=d["language_name"], x=d["mean_score"] * 100, orientation="h",
        marker={"color": d["mean_score"] * 100, "colorscale": "Cividis", "cmin": 0, "cmax": 100,
                "colorbar": SCORE_BAR},
        customdata=d[["tier", "family", "n_models", "n_tasks"]].to_numpy(),
        hovertemplate="%{y}: %{x:.1f}%<br>tier %{customdata[0]}, %{customdata[1]}<br>"
                      "%{customdata[2]} models, %{customdata[3]} tasks<extra></extra>"))
    height = max(320, ROW_PX * len(d) + 180)
    fig.update_layout(template=TEMPLATE, height=height, margin={"t": 110, "r": 120},
                      **_header(height, f"Languages ranked by difficulty (hardest {len(d)} of {len(diff)}): mean "
                                        f"score % of up to {n_models} models on the tasks each language shares with them"),
                      xaxis={"range": [0, 100], "side": "top"},
                      yaxis={"autorange": "reversed", "tickmode": "array", "tickvals": list(d["language_name"]),
                             "automargin": True})
    return fig


def compare_chart(cmp: pd.DataFrame, model_a: str, model_b: str, top: int = 40) -> go.Figure:
    """A − B per task and language, sorted; the ``top`` largest differences shown, the rest summarised in
    the title; significant cells (Holm-corrected) solid and marked with ★. No chance line: a difference
    of two scores has none (two models both at chance differ by 0, as do two that are both perfect)."""
    if cmp.empty:
        return _empty("Nothing to compare: the two models share no task and language")
    ranked = cmp.assign(_size=cmp["difference"].abs()).sort_values("_size", ascending=False)
    shown, rest = ranked.head(top).sort_values("difference"), ranked.iloc[top:]
    labels = [("★ " if s else "") + f"{t} · {n}" for t, n, s in zip(shown["task"], shown["language_name"], shown["significant"])]
    colors = ["#1b7837" if d > 0 else "#762a83" for d in shown["difference"]]  # green/purple: colour-blind safe
    opacity = [1.0 if s else 0.35 for s in shown["significant"]]
    fig = go.Figure(go.Bar(y=labels, x=shown["difference"] * 100, orientation="h",
                           marker={"color": colors, "opacity": opacity},
                           customdata=shown[["p_holm", "n_items", "method"]].to_numpy(),
                           hovertemplate="%{y}<br>A − B = %{x:.1f} points<br>Holm p = %{customdata[0]:.2g}"
                                         "<br>%{customdata[1]} items, %{customdata[2]}<extra></extra>"))
    note = ""
    if len(rest):
        note = (f"<br><sup>{len(shown)} largest of {len(ranked)} differences; the other {len(rest)} are within "
                f"±{rest['_size'].max() * 100:.1f} points ({int(rest['significant'].sum())} significant)</sup>")
    height = max(320, ROW_PX * len(shown) + 200)
    fig.update_layout(template=TEMPLATE, height=height, margin={"t": 130},
                      **_header(height, f"{model_a} − {model_b}, points (★ solid: significant after Holm correction){note}"),
                      xaxis={"side": "top", "zeroline": True, "zerolinewidth": 2},
                      yaxis={"tickmode": "array", "tickvals": labels, "automargin": True})
    return fig
