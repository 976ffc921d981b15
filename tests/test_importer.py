"""Importing lm-evaluation-harness and lighteval output, exporting runs as lm-eval output.

The fixtures in tests/fixtures are written in the harnesses' documented formats (lm-eval 0.4's
EvaluationTracker, lighteval's EvaluationTracker); tests/test_lm_eval_import_real.py imports the
output of a real lm-eval run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from evaluator.run_store import RunStore
from explorer import views
from explorer.export import export_lm_eval
from explorer.harness_map import resolve, table
from explorer.importer import ImportFormatError, import_paths, main, read_paths
from explorer.store import ResultStore

FIXTURES = Path(__file__).parent / "fixtures"
LM_EVAL = FIXTURES / "lm_eval"
LIGHTEVAL = FIXTURES / "lighteval"
RESULTS = next((LM_EVAL / "org__tiny-model").glob("results_*.json"))


def _store(tmp_path) -> RunStore:
    return RunStore((tmp_path / "data" / "results").as_uri())


def _scores(run) -> dict:
    return {(s.task, s.language, s.category, s.metric): s.as_row() for s in run.scores}


def _copy(tmp_path) -> Path:
    folder = tmp_path / "lm_eval_copy"
    shutil.copytree(LM_EVAL, folder)
    return next(folder.rglob("results_*.json"))


def _edit(path: Path, change) -> None:
    obj = json.loads(path.read_text(encoding="utf-8"))
    change(obj)
    path.write_text(json.dumps(obj), encoding="utf-8")


# -- mapping --------------------------------------------------------------------------------------
@pytest.mark.parametrize("harness, name, expected", [
    ("lm-eval", "xcopa_et", ("xcopa", "est_Latn", "*")),
    ("lm-eval", "belebele_est_Latn", ("belebele", "est_Latn", "*")),
    ("lm-eval", "global_mmlu_full_am_abstract_algebra", ("global_mmlu", "amh_Ethi", "abstract_algebra")),
    ("lm-eval", "global_mmlu_ar", ("global_mmlu_lite", "arb_Arab", "*")),
    ("lm-eval", "mgsm_direct_sw", ("mgsm", "swh_Latn", "*")),
    ("lm-eval", "mgsm_native_cot_bn", ("mgsm_native_cot", "ben_Beng", "*")),
    ("lm-eval", "xnli_fr", ("xnli", "fra_Latn", "*")),
    ("lm-eval", "xstorycloze_zh", ("xstory_cloze", "zho_Hans", "*")),
    ("lm-eval", "xwinograd_jp", ("xwinograd", "jpn_Jpan", "*")),
    ("lm-eval", "paws_de", ("pawsx", "deu_Latn", "*")),
    ("lm-eval", "m_mmlu_ar", ("okapi_mmlu", "arb_Arab", "*")),
    ("lm-eval", "arc_hi", ("okapi_arc", "hin_Deva", "*")),
    ("lm-eval", "hellaswag_vi", ("okapi_hellaswag", "vie_Latn", "*")),
    ("lm-eval", "wmt14-en-fr", ("wmt_translate", "fra_Latn", "*")),
    ("lm-eval", "ifeval", ("ifeval", "eng_Latn", "*")),
    ("lm-eval", "arc_easy", ("arc_easy", "*", "*")),  # "easy" is no language: imported under its own id
    ("lighteval", "xcopa_est_cf", ("xcopa", "est_Latn", "*")),
    ("lighteval", "belebele_swh_Latn_mcf", ("belebele", "swh_Latn", "*")),
    ("lighteval", "global_mmlu_ca_fra_mcf:anatomy", ("global_mmlu", "fra_Latn", "anatomy")),
    ("lighteval", "flores200:eng_Latn-fra_Latn", ("flores_translate", "fra_Latn", "*")),
])
def test_task_and_language_mapping(harness, name, expected):
    m = resolve(harness, name)
    assert (m.task, m.language, m.category) == expected


def test_mapping_table_names_existing_tasks_and_languages():
    from evaluator.cards import all_cards
    from evaluator.languages import language_table

    cards = all_cards()
    for row in table():
        assert row.language == "{lang}" or row.language in language_table(), row
        if row.task in cards:
            assert row.kind == cards[row.task].kind, row


# -- lm-eval --------------------------------------------------------------------------------------
def test_lm_eval_results_become_scores_with_provenance():
    run = read_paths("lm-eval", [LM_EVAL])[0]
    s = _scores(run)
    assert run.info["source"] == "imported" and run.info["model"] == "org/tiny-model"
    assert run.info["precision"] == "bfloat16" and run.info["revision"].startswith("0123abcdef")
    xc = s[("xcopa", "est_Latn", "*", "acc")]
    assert xc["primary"] and xc["value"] == 0.75 and xc["n_items"] == 4 and xc["source"] == "imported"
    assert xc["ci_low"] < 0.75 < xc["ci_high"]
    assert not s[("xcopa", "est_Latn", "*", "acc_norm")]["primary"]  # kept, not the headline
    # Generation: the flexible-extract filter is the headline, the other filter is kept.
    assert s[("mgsm", "swh_Latn", "*", "exact_match,flexible-extract")]["primary"]
    assert not s[("mgsm", "swh_Latn", "*", "exact_match,remove_whitespace")]["primary"]
    # Translation: per direction on the project's 0-1 scale, the mean of both is the headline.
    assert s[("wmt_translate", "deu_Latn", "*", "chrf_eng_to_x")]["value"] == pytest.approx(0.48)
    assert s[("wmt_translate", "deu_Latn", "*", "chrf")]["value"] == pytest.approx(0.50)
    assert s[("wmt_translate", "deu_Latn", "*", "chrf")]["primary"]
    assert s[("wmt_translate", "deu_Latn", "*", "ter_eng_to_x")]["higher_is_better"] is False
    # A group named by the table is a language score; its subtask a category.
    assert s[("global_mmlu", "amh_Ethi", "*", "acc")]["value"] == 0.3
    assert s[("global_mmlu", "amh_Ethi", "abstract_algebra", "acc")]["value"] == 0.25
    # Unknown task: its own id; the xcopa group (an aggregate of its subtasks) is not a score.
    assert ("arc_easy", "*", "*", "acc") in s
    assert not any(k[0] == "xcopa" and k[1] == "*" for k in s)
    imported = run.info["imported"]
    assert imported["harness_version"] == "0.4.13" and imported["git_hash"] == "a1b2c3d"
    assert imported["n_shot"]["global_mmlu_full_am"] == 5
    assert "--model_args pretrained=org/tiny-model" in imported["command"]
    assert imported["date"].startswith("2026-01-15")


def test_lm_eval_samples_become_sample_rows():
    run = read_paths("lm-eval", [LM_EVAL])[0]
    xcopa = run.samples["xcopa"]
    assert len(xcopa) == 8 and {r["language"] for r in xcopa} == {"est_Latn", "swh_Latn"}
    first = next(r for r in xcopa if r["language"] == "est_Latn" and r["item_id"] == "101")  # the loader's idx
    assert first["choice_loglik"] == [-12.4, -8.7] and first["score"] == 0.0
    assert first["prediction"] == first["choices"][1] and first["gold"] == first["choices"][0]
    mgsm = run.samples["mgsm"]
    assert len(mgsm) == 2  # one line per document: the headline filter's
    assert [r["prediction"] for r in mgsm] == ["5", "7"] and [r["score"] for r in mgsm] == [1.0, 0.0]
    assert mgsm[0]["generation"] == "Jibu: 5" and mgsm[0]["gold"] == "5"
    assert [r["item_id"] for r in mgsm] == ["sw-001", "sw-002"]  # the loader's ids: the pairs line up
    # A subject of Global-MMLU: its rows carry the subject as category and the dataset's sample id.
    mmlu = run.samples["global_mmlu"]
    assert [(r["item_id"], r["category"], r["score"]) for r in mmlu] == [
        ("abstract_algebra/test/0", "abstract_algebra", 1.0), ("abstract_algebra/test/1", "abstract_algebra", 0.0)]
    assert mmlu[0]["gold"] == " B" and mmlu[1]["prediction"] == " A"


def test_import_is_idempotent_and_the_store_loads_it(tmp_path):
    store = _store(tmp_path)
    first = import_paths("lm-eval", [LM_EVAL], store)
    again = import_paths("lm-eval", [RESULTS], store)
    assert [o.status for o in first] == ["imported"] and [o.status for o in again] == ["already imported"]
    assert first[0].run_id == again[0].run_id
    assert len(store.scan().runs) == 1
    rs = ResultStore(tmp_path / "data", persistent=False)
    try:
        assert rs.problems().empty
        rows = rs.query("SELECT * FROM lang_scores WHERE source = 'imported' AND task = 'xcopa'")
        assert set(rows["language"]) == {"est_Latn", "swh_Latn"}
        page = views.samples(rs, first[0].run_id, "xcopa")
        assert len(page[0] if isinstance(page, tuple) else page) == 8
        prov = views.model_provenance(rs, "org/tiny-model")
        xc = prov[prov["task"] == "xcopa"].iloc[0]
        assert xc["source"] == "imported" and xc["harness"] == "lm-evaluation-harness 0.4.13"
        assert xc["harness_tasks"] == "xcopa_et, xcopa_sw" and xc["git_hash"] == "a1b2c3d"
    finally:
        rs.close()


def test_imported_and_evaluated_runs_of_a_model_are_both_kept(tmp_path):
    """An import never replaces the evaluated run of the same model and task (nor the other way round)."""
    from explorer.synthetic import generate

    generate(tmp_path / "data", models=1, languages=2, tasks=1, sample_models=1)
    rs = ResultStore(tmp_path / "data", persistent=False)
    model = rs.query("SELECT DISTINCT model, task FROM lang_scores WHERE source = 'evaluated'").iloc[0]
    rs.close()
    path = _copy(tmp_path)
    _edit(path, lambda o: o.update(model_name=model["model"]))
    import_paths("lm-eval", [path], _store(tmp_path))
    rs = ResultStore(tmp_path / "data", persistent=False)
    try:
        sources = set(rs.query("SELECT DISTINCT source FROM lang_scores WHERE model = ?", [model["model"]])["source"])
        assert sources == {"evaluated", "imported"}
    finally:
        rs.close()


def test_two_formulations_of_one_benchmark_are_both_kept(tmp_path):
    path = tmp_path / "results" / "results_2026-01-16T08-00-00.000000.json"
    path.parent.mkdir()
    src = next(LIGHTEVAL.rglob("results_*.json"))
    path.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    _edit(path, lambda o: o["results"].update({"lighteval|xcopa_est_mcf|0": {"acc": 0.5, "acc_stderr": 0.3}}))
    s = _scores(read_paths("lighteval", [path])[0])
    assert s[("xcopa", "est_Latn", "*", "acc")]["value"] == pytest.approx(2 / 3)
    assert s[("xcopa_est_mcf", "est_Latn", "*", "acc")]["value"] == 0.5


# -- malformed input ------------------------------------------------------------------------------
@pytest.mark.parametrize("change, field", [
    (lambda o: o.pop("results"), "results"),
    (lambda o: o.pop("config"), "config"),
    (lambda o: o["results"]["xcopa_et"].update({"acc,none": "high"}), "results.xcopa_et.acc,none"),
    (lambda o: o.update(results=["xcopa_et"]), "results"),
    (lambda o: o["config"].update(model_args=42), "config.model_args"),
])
def test_malformed_lm_eval_file_names_file_and_field(tmp_path, change, field):
    path = _copy(tmp_path)
    _edit(path, change)
    with pytest.raises(ImportFormatError) as err:
        read_paths("lm-eval", [path])
    assert err.value.field == field and err.value.path == str(path)
    assert str(path) in str(err.value) and field in str(err.value)


def test_malformed_samples_line_names_the_line(tmp_path):
    path = _copy(tmp_path)
    samples = next(path.parent.glob("samples_xcopa_sw_*.jsonl"))
    lines = samples.read_text(encoding="utf-8").splitlines()
    bad = json.loads(lines[2])
    bad["doc_id"] = "two"
    samples.write_text("\n".join([*lines[:2], json.dumps(bad), *lines[3:]]) + "\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"samples_xcopa_sw_.*\.jsonl:3: doc_id"):
        read_paths("lm-eval", [path])


@pytest.mark.parametrize("content, harness, field", [
    ('{"foo": 1}', "lm-eval", "results"),
    ("[1, 2]", "lm-eval", "(file)"),
    ("not json {", "lm-eval", "(file)"),
    ('{"foo": 1}', "lighteval", "config_general"),
])
def test_foreign_file_is_refused(tmp_path, content, harness, field):
    path = tmp_path / "results_2026-01-01T00-00-00.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFormatError) as err:
        read_paths(harness, [path])
    assert err.value.field == field


def test_the_wrong_harness_is_named():
    lighteval_file = next(LIGHTEVAL.rglob("results_*.json"))
    with pytest.raises(ImportFormatError, match="lighteval output"):
        read_paths("lm-eval", [lighteval_file])
    with pytest.raises(ImportFormatError, match="lm-evaluation-harness output"):
        read_paths("lighteval", [RESULTS])


def test_nothing_is_published_when_one_file_is_bad(tmp_path, capsys):
    bad = tmp_path / "bad" / "results_2026-01-01T00-00-00.json"
    bad.parent.mkdir()
    bad.write_text('{"results": {}, "versions": {}}', encoding="utf-8")
    data = tmp_path / "data"
    assert main(["lm-eval", str(LM_EVAL), str(bad), "--data-dir", str(data)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "config" in err and err.count("\n") == 1
    assert _store(tmp_path).scan().runs == []
    assert main(["lm-eval", str(LM_EVAL), "--data-dir", str(data)]) == 0
    assert "imported: lmeval-" in capsys.readouterr().out


# -- lighteval ------------------------------------------------------------------------------------
def test_lighteval_results_and_details(tmp_path):
    run = read_paths("lighteval", [LIGHTEVAL])[0]
    s = _scores(run)
    assert s[("xcopa", "est_Latn", "*", "acc")]["value"] == pytest.approx(2 / 3)
    assert s[("xcopa", "est_Latn", "*", "acc")]["primary"] and s[("xcopa", "est_Latn", "*", "acc")]["n_items"] == 3
    assert s[("mgsm", "swh_Latn", "*", "quasi_exact_match")]["primary"]
    assert not any(k[0] == "all" for k in s)
    assert run.info["imported"]["harness"] == "lighteval" and run.info["suite_version"] == "9f8e7d6c5b4a"
    xcopa = run.samples["xcopa"]
    assert [r["item_id"] for r in xcopa] == ["200", "201", "202"]
    assert [r["score"] for r in xcopa] == [1.0, 1.0, 0.0]
    assert xcopa[1]["prediction"] == " four" and xcopa[2]["gold"] == " six"
    assert run.samples["mgsm"][0]["prediction"] == "5"
    named = read_paths("lighteval", [next(LIGHTEVAL.rglob("results_*.json"))])[0]  # the file alone finds its details
    assert named.run_id == run.run_id and len(named.samples["xcopa"]) == 3
    out = import_paths("lighteval", [LIGHTEVAL], _store(tmp_path))
    assert [o.status for o in out] == ["imported"]
    assert [o.status for o in import_paths("lighteval", [LIGHTEVAL], _store(tmp_path))] == ["already imported"]


# -- export ---------------------------------------------------------------------------------------
def _round_trip(tmp_path, run_id: str) -> tuple[dict, dict]:
    store = _store(tmp_path)
    out = tmp_path / "export"
    path = export_lm_eval(store, run_id, out)
    obj = json.loads(path.read_text(encoding="utf-8"))
    assert obj["model_name"] and obj["results"] and obj["versions"] and obj["n-shot"] is not None
    back = read_paths("lm-eval", [out])[0]
    import pyarrow.parquet as pq

    folder = store.published_folder(run_id) or run_id
    original = pq.read_table(store.path(folder, "scores.parquet")).to_pylist()
    return {(s["task"], s["language"], s["category"], s["metric"]): s for s in original}, _scores(back)


def test_export_of_an_import_imports_to_the_same_scores(tmp_path):
    run_id = import_paths("lm-eval", [LM_EVAL], _store(tmp_path))[0].run_id
    original, back = _round_trip(tmp_path, run_id)
    assert set(back) == set(original)
    for k, s in original.items():
        assert back[k]["value"] == pytest.approx(s["value"], abs=1e-12), k
        assert back[k]["primary"] == s["primary"], k
        assert back[k]["n_items"] == s["n_items"] or s["n_items"] is None, k
    again = read_paths("lm-eval", [tmp_path / "export"])[0]
    assert len(again.samples["xcopa"]) == 8
    assert sorted(r["item_id"] for r in again.samples["xcopa"]) == sorted(
        r["item_id"] for r in read_paths("lm-eval", [LM_EVAL])[0].samples["xcopa"])


def test_export_of_an_evaluated_run_imports_to_the_same_scores(tmp_path):
    from explorer.synthetic import generate

    generate(tmp_path / "data", models=1, languages=3, tasks=2, sample_models=1)
    run_id = _store(tmp_path).scan().runs[0].name
    original, back = _round_trip(tmp_path, run_id)
    assert set(back) == set(original)
    for k, s in original.items():
        assert back[k]["value"] == pytest.approx(s["value"], abs=1e-12), k
        assert back[k]["primary"] == s["primary"], k
    samples = read_paths("lm-eval", [tmp_path / "export"])[0].samples
    assert samples and all(rows for rows in samples.values())


# -- the app --------------------------------------------------------------------------------------
def test_admin_upload_imports_and_others_are_refused(tmp_path, monkeypatch):
    from explorer.admin_import import import_files
    from submissions.settings import Settings

    monkeypatch.setenv("POLYGLOT_ADMINS", "alice")
    rs = ResultStore(tmp_path / "data", persistent=False)
    ctx = SimpleNamespace(settings=Settings(data_dir=tmp_path / "data"), store=rs)
    # Gradio hands each upload over in a folder of its own.
    uploads = []
    for i, f in enumerate(sorted((LM_EVAL / "org__tiny-model").iterdir())):
        (tmp_path / "up" / str(i)).mkdir(parents=True)
        uploads.append(shutil.copy(f, tmp_path / "up" / str(i) / f.name))
    try:
        assert "refused" in import_files(ctx, "lm-eval", uploads, "mallory")
        assert "refused" in import_files(ctx, "lm-eval", uploads, None)
        assert rs.query("SELECT count(*) AS n FROM lang_scores WHERE source = 'imported'")["n"].iloc[0] == 0
        bad = tmp_path / "up" / "results_2026-01-01T00-00-00.json"
        bad.write_text('{"foo": 1}', encoding="utf-8")
        msg = import_files(ctx, "lm-eval", [str(bad)], "Alice")
        assert "not imported" in msg and "results_2026-01-01T00-00-00.json" in msg and "results" in msg
        msg = import_files(ctx, "lm-eval", uploads, "Alice")
        assert "imported: `lmeval-" in msg, msg
        assert rs.query("SELECT count(*) AS n FROM lang_scores WHERE source = 'imported'")["n"].iloc[0] > 0
        assert rs.query("SELECT count(*) AS n FROM sample_files WHERE problem IS NULL")["n"].iloc[0] == 3
    finally:
        rs.close()


@pytest.mark.slow
def test_app_shows_imported_rows_as_their_own_source(tmp_path, start_app):
    data = tmp_path / "data"
    assert main(["lm-eval", str(LM_EVAL), "--data-dir", str(data)]) == 0
    app = start_app(data, "--no-worker")
    client = app.client()
    rows = client.predict("xcopa", "", "imported", api_name="/leaderboard_table")
    mine = [r for r in rows if r["model"] == "org/tiny-model"]
    assert len(mine) == 1 and mine[0]["source"] == "imported", rows
    assert mine[0]["xcopa"] == pytest.approx((0.75 + 0.5) / 2 * (100 if mine[0]["xcopa"] > 1 else 1))
    evaluated = client.predict("xcopa", "", "evaluated", api_name="/leaderboard_table")
    assert not [r for r in evaluated if r["model"] == "org/tiny-model"]


def test_imported_mgsm_items_pair_with_the_loaders_items(tmp_path):
    """lm-eval numbers MGSM's documents in the order of the published TSV; the project's loader names the
    same lines {code}-{line:03d}: an imported sample and an evaluated one of the same question share an id."""
    from evaluator.cards import all_cards
    from evaluator.loaders import get_loader

    card = all_cards()["mgsm"]
    (tmp_path / "mgsm_sw.tsv").write_text("Swali: 2+3?\t5\nSwali: 10-4?\t6\n", encoding="utf-8")
    loaded = get_loader(card.source.loader)(card, "swh_Latn", tmp_path)
    imported = read_paths("lm-eval", [LM_EVAL])[0].samples["mgsm"]
    assert [i.item_id for i in loaded] == [r["item_id"] for r in imported]
    assert [i.fields["question"] for i in loaded] == [r["details"]["doc"]["question"] for r in imported]
