"""The explorer's charts stay readable at 200 languages: every row labelled, heights that grow, legends
and colour bars that keep off the axes, and the compare chart summarising what it does not draw."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from explorer import figures


def _langs(n_languages: int, models=("org/a", "org/b", "org/c")) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for m in models:
        for i in range(n_languages):
            score = float(rng.uniform(0.1, 0.9))
            rows.append({"model": m, "source": "evaluated", "language": f"l{i:03d}_Latn", "language_name": f"Language {i:03d}",
                         "family": f"family {i % 17:02d}", "tier": str(i % 6), "score": score,
                         "ci_low": score - 0.05, "ci_high": score + 0.05})
    return pd.DataFrame(rows)


def test_heatmap_labels_every_language_row_and_grows_with_them():
    small, big = figures.language_heatmap(_langs(12)), figures.language_heatmap(_langs(200))
    trace = big.data[0]
    assert len(trace.y) == 200 and len(set(trace.y)) == 200  # a row per language, each labelled
    assert list(big.layout.yaxis.tickvals) == list(trace.y)  # every label drawn, none thinned out
    assert big.layout.height >= figures.ROW_PX * 200 > small.layout.height
    assert len(trace.x) == 3  # models are the columns
    # Grouped by family: separators between the 17 groups and one label per group.
    assert len(big.layout.shapes) == 16 and len(big.layout.annotations) == 17
    bar = trace.colorbar
    assert list(bar.tickvals) == [0, 20, 40, 60, 80, 100] and bar.lenmode == "pixels"  # ticks that cannot overlap


def test_heatmap_rows_follow_their_groups():
    fig = figures.language_heatmap(_langs(40), group_by="tier")
    labels = list(fig.data[0].y)
    tiers = {f"Language {i:03d}": str(i % 6) for i in range(40)}
    assert [tiers[x] for x in labels] == sorted(tiers[x] for x in labels)


def test_many_languages_become_a_dot_plot_with_the_legend_above_the_plot():
    few, many = figures.language_bars(_langs(10)), figures.language_bars(_langs(200))
    assert few.data[0].type == "bar"
    assert many.data[0].type == "scatter" and len(many.data) == 3
    assert len(many.layout.yaxis.tickvals) == 200 and many.layout.height >= figures.ROW_PX * 200
    for fig in (few, many):
        assert fig.layout.legend.yref == "container" and fig.layout.legend.y > 0.9  # above the plot area


def test_difficulty_uses_a_fixed_colour_blind_safe_scale_and_says_what_it_averages():
    diff = pd.DataFrame({"language": ["a", "b"], "language_name": ["A", "B"], "tier": ["1", "2"],
                         "family": ["x", "y"], "mean_score": [0.2, 0.3], "n_models": [3, 2], "n_tasks": [2, 1]})
    fig = figures.difficulty_chart(diff)
    marker = fig.data[0].marker
    assert (marker.cmin, marker.cmax) == (0, 100)  # fixed: the same colour means the same score in every view
    assert marker.colorscale == go.Bar(marker={"colorscale": "Cividis"}).marker.colorscale
    assert "3 models" in fig.layout.title.text and "tasks" in fig.layout.title.text
    assert list(fig.data[0].y) == ["A", "B"] and fig.layout.yaxis.autorange == "reversed"  # hardest on top


def test_compare_shows_the_largest_differences_sorted_and_summarises_the_rest():
    rng = np.random.default_rng(1)
    n = 150
    cmp = pd.DataFrame({"task": ["t"] * n, "language_name": [f"L{i}" for i in range(n)],
                        "difference": rng.normal(0, 0.1, n), "p_holm": rng.uniform(0, 1, n),
                        "n_items": [100] * n, "method": ["mcnemar"] * n})
    cmp["significant"] = cmp["p_holm"] < 0.05
    fig = figures.compare_chart(cmp, "A", "B", top=40)
    x = list(fig.data[0].x)
    assert len(x) == 40 and x == sorted(x)
    biggest = cmp["difference"].abs().nlargest(40).min() * 100
    assert min(abs(v) for v in x) >= biggest - 1e-9
    assert "other 110" in fig.layout.title.text
    starred = [label for label in fig.data[0].y if label.startswith("★")]
    shown = cmp.loc[cmp["difference"].abs().nlargest(40).index]
    assert len(starred) == int(shown["significant"].sum())


def test_parity_scatter_colours_span_the_selection():
    par = pd.DataFrame({"model": ["a", "b", "c"], "mean": [0.5, 0.6, 0.7], "gap": [0.1, 0.2, 0.3],
                        "n_languages": [4, 50, 200]})
    marker = figures.parity_scatter(par).data[0].marker
    assert (marker.cmin, marker.cmax) == (4, 200) and marker.colorscale is not None


def _chance_shapes(fig):
    return [s for s in fig.layout.shapes if s.line.dash == "dash"]


def test_chance_level_is_a_dashed_labelled_line_for_one_task():
    from explorer.leaderboard_table import chance_of

    assert chance_of(("belebele",)) == 0.25 and chance_of(("belebele", "xcopa")) is None and chance_of(()) is None
    assert chance_of(("mgsm",)) is None  # open answers: no chance level
    few = figures.language_bars(_langs(10), chance=0.25)
    (line,) = _chance_shapes(few)
    assert line.y0 == line.y1 == 25  # on the score axis, in %
    assert any(a.text == "chance" for a in few.layout.annotations)
    many = figures.language_bars(_langs(200), chance=0.5)  # the dot plot: scores run along x
    (line,) = _chance_shapes(many)
    assert line.x0 == line.x1 == 50
    par = pd.DataFrame({"model": ["a", "b"], "mean": [0.5, 0.6], "best": [0.7, 0.8], "worst": [0.3, 0.4],
                        "best_language": ["x", "y"], "worst_language": ["z", "w"], "gap": [0.4, 0.4],
                        "n_languages": [4, 5]})
    for fig in (figures.parity_chart(par, 1 / 3), figures.parity_scatter(par, 1 / 3)):
        (line,) = _chance_shapes(fig)
        assert abs(line.x0 - 100 / 3) < 1e-9
    # Several tasks, or a task without a chance level: no line at all.
    assert not _chance_shapes(figures.language_bars(_langs(10)))
    assert not _chance_shapes(figures.parity_chart(par))


def test_category_bars_draw_each_tasks_own_chance_level_over_its_bars_only():
    cats = pd.DataFrame({"model": ["m"] * 4, "task": ["belebele", "belebele", "xcopa", "mgsm"],
                         "category": ["a", "b", "a", "a"], "score": [0.5, 0.6, 0.7, 0.2]})
    fig = figures.category_bars(cats, {"belebele": 0.25, "xcopa": 0.5, "mgsm": None})
    lines = sorted(_chance_shapes(fig), key=lambda s: s.x0)
    assert [(s.y0, s.x0, s.x1) for s in lines] == [(25, -0.45, 1.45), (50, 1.55, 2.45)]  # none for mgsm
