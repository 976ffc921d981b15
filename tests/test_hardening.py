"""Hostile values and faults injected through one running app (issue: hardening).

One app per module, on a synthetic store whose files carry hostile content: model outputs that
are spreadsheet formulas, model names that look like links. Each test calls the app the way a
client would (HTTP or gradio_client) and checks what comes back and what lands on disk.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
import shutil
import stat
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import RunningApp, wait_until
from faults import copy_run, variant_of
from hostile_corpus import API_ARGUMENTS, FORMULA_CELLS, LINKY_NAMES

from explorer.synthetic import generate
from submissions.policy import SECRET_FILE, legacy_client_key
from workqueue import Queue

PER_CLIENT_LIMIT = 4
EXPORTS_CAP_MB = 0.06
ENV = {"POLYGLOT_RATE_PER_CLIENT": str(PER_CLIENT_LIMIT), "POLYGLOT_RATE_PER_USER": "-1",
       "POLYGLOT_EXPORTS_MAX_MB": str(EXPORTS_CAP_MB)}


def _set_column(path: Path, name: str, values: list) -> None:
    t = pq.read_table(path)
    col = t.column(name).to_pylist()
    col[: len(values)] = values
    pq.write_table(t.set_column(t.schema.get_field_index(name), name, pa.array(col, t.schema.field(name).type)), path)


def _rename_model(run_dir: Path, model: str) -> None:
    for p in run_dir.glob("*.parquet"):
        t = pq.read_table(p)
        _set_column(p, "model", [model] * len(t))
    info = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**info, "model": model}))


@pytest.fixture(scope="module")
def hostile_data(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("hardening") / "store"
    generate(data, models=6, languages=4, tasks=2, sample_models=3, items_per_language=10, sample_items=3)
    results = data / "results"
    # A submitter controls the model's outputs: make some of them formulas.
    samples = results / "synthetic-0000" / "samples-synthetic_00.parquet"
    _set_column(samples, "generation", FORMULA_CELLS)
    _set_column(samples, "prediction", FORMULA_CELLS)
    for i, name in enumerate(LINKY_NAMES):
        _rename_model(copy_run(results / "synthetic-0005", results / f"linky-{i}", f"linky-{i}"), name)
    # Requests of this address from before addresses were keyed-hashed still count for its rate limit.
    q = Queue(data / "queue.sqlite")
    for i in range(2):
        q.add(model_id=f"org/earlier-{i}", revision="main", sha=f"{i}" * 40, precision="float32", source="hub",
              suite="smoke", tasks=["x"], client=legacy_client_key("127.0.0.1"))
    q.close()
    return data


@pytest.fixture(scope="module")
def app(hostile_data):
    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update(ENV)
    try:
        running = RunningApp(hostile_data, "--no-worker", "--allow-local-models", "--tick", "0.5")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        client = running.client()
        wait_until(lambda: len(client.predict("", "", "evaluated", api_name="/leaderboard_table")) == 6 + len(LINKY_NAMES),
                   timeout=60, interval=0.25, what="every run loaded")
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def client(app):
    return app.client()


def call_raw(app: RunningApp, api: str, data_json: str) -> tuple[str, object]:
    """POST the JSON text as is (so that 1e400 or 10**30 arrive unchanged); ('complete'|'error', payload)."""
    base = f"{app.url}gradio_api/call/{api}"
    body = ('{"data": ' + data_json + "}").encode()
    req = urllib.request.Request(base, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        event_id = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(f"{base}/{event_id}", timeout=60) as r:
        text = r.read().decode()
    event = text.split("event: ", 1)[1].split("\n", 1)[0].strip()
    payload = text.split("data: ", 1)[1].split("\n", 1)[0]
    return event, json.loads(payload)  # strict JSON: Infinity or NaN would not parse


def _assert_short_and_clean(message: str, app: RunningApp) -> None:
    assert message and len(message) < 240, message
    for leak in ("Traceback", "SELECT", "read_parquet", "Error:", str(app.data_dir), "/tmp/", "/work/", "Errno"):
        assert leak not in message, (leak, message)


# -- item 6: every argument checked against its spec ---------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("api,data_json", API_ARGUMENTS, ids=lambda v: v[:40] if isinstance(v, str) else v)
def test_hostile_api_arguments_get_one_clear_message(app, api, data_json):
    data_json = data_json.replace('"RUN"', '"synthetic-0000"').replace('"TASK"', '"synthetic_00"')
    event, payload = call_raw(app, api, data_json)
    assert event == "error", payload
    message = payload["error"]
    _assert_short_and_clean(message, app)
    assert any(w in message for w in ("must be", "too long", "is required", "at most", "lists")), message
    assert "attribute" not in message and "Infinity" not in message


@pytest.mark.slow
def test_numbers_given_as_text_are_coerced_and_echoed_as_numbers(app):
    for page in ('"2"', "2.0", "2"):
        event, payload = call_raw(app, "samples", f'["synthetic-0000", "synthetic_00", "", "", "false", {page}, "5"]')
        assert event == "complete", payload
        assert payload[0]["page"] == 2 and payload[0]["total"] == 12 and len(payload[0]["rows"]) == 5
    event, payload = call_raw(app, "leaderboard_table", '[["synthetic_00"], "", "", "*", "", "", "", "", "", false, "", false]')
    assert event == "complete" and payload[0]


# -- item 7: internal failures as an error id ----------------------------------------------------

@pytest.mark.slow
def test_an_internal_failure_reaches_the_caller_as_an_error_id_and_the_log_has_the_details(app, client):
    exports = app.data_dir / "exports"
    moved = app.data_dir / "exports-moved"
    exports.rename(moved)
    exports.write_text("not a folder")  # bad luck: the exports folder was replaced
    try:
        event, payload = call_raw(app, "download_samples", '["synthetic-org/model-0002", "json"]')
    finally:
        exports.unlink()
        moved.rename(exports)
    assert event == "error"
    message = payload["error"]
    _assert_short_and_clean(message, app)
    error_id = message.split("error id ", 1)[1].split(")", 1)[0]
    assert len(error_id) == 10
    log = wait_until(lambda: error_id in app.output() and app.output(), timeout=10, what="error id logged")
    assert str(exports) in log.split(error_id, 1)[1][:2000]  # the details are in the log


# -- item 3: one format, cached, capped ----------------------------------------------------------

def _export_files(app) -> dict[str, os.stat_result]:
    root = app.data_dir / "exports"
    return {str(p.relative_to(root)): p.stat() for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")}


@pytest.mark.slow
def test_a_download_writes_only_the_asked_format_and_a_repeat_writes_nothing(app, client):
    before = _export_files(app)
    start = time.perf_counter()
    path = client.predict("synthetic-org/model-0001", "csv", api_name="/download_samples")
    first_s = time.perf_counter() - start
    new = {k: v for k, v in _export_files(app).items() if k not in before}
    assert [Path(k).name for k in new] == ["samples.csv"], new
    assert len(pd.read_csv(path)) == 2 * 4 * 3
    start = time.perf_counter()
    again = client.predict("synthetic-org/model-0001", "csv", api_name="/download_samples")
    repeat_s = time.perf_counter() - start
    after = _export_files(app)
    (name,) = new
    assert after[name].st_mtime_ns == new[name].st_mtime_ns and after[name].st_ino == new[name].st_ino  # not rebuilt
    assert set(after) - set(before) == set(new)
    assert Path(again).read_bytes() == Path(path).read_bytes()
    print(f"download: first {first_s:.3f} s, repeated {repeat_s:.3f} s, {new[name].st_size} bytes")
    client.predict("synthetic-org/model-0001", "parquet", api_name="/download_samples")
    formats = sorted(Path(k).name for k in set(_export_files(app)) - set(before))
    assert formats == ["samples.csv", "samples.parquet"]


@pytest.mark.slow
def test_the_exports_folder_stays_under_its_cap_evicting_the_least_recently_used(app, client):
    cap = EXPORTS_CAP_MB * 1024**2
    sizes = []
    for fmt in ("csv", "json", "parquet"):
        for m in range(3):
            client.predict(f"synthetic-org/model-{m:04d}", fmt, api_name="/download_samples")
            files = _export_files(app)
            total = sum(s.st_size for s in files.values())
            largest = max(s.st_size for s in files.values())
            assert total <= cap + largest, (total, cap)  # at most the file just made over the cap
            sizes.append(total)
    assert len(_export_files(app)) < 9  # some were evicted


# -- item 4: clean-up never follows links, removes only the app's folders ------------------------

@pytest.mark.slow
def test_exports_clean_up_leaves_links_and_foreign_folders_and_what_they_point_to(app, client, tmp_path):
    victim = tmp_path / "outside"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    exports = app.data_dir / "exports"
    old = time.time() - 30 * 86400
    planted = {
        "a" * 24: victim,  # a link with the name of an app folder
        "1700000000-abcdefabcdef": victim,  # a link with the name of an earlier version's folder
    }
    for name, target in planted.items():
        (exports / name).symlink_to(target, target_is_directory=True)
        os.utime(exports / name, (old, old), follow_symlinks=False)
    foreign = exports / ("b" * 24)  # a real folder the app did not make (no marker)
    foreign.mkdir()
    (foreign / "note.txt").write_text("not the app's")
    os.utime(foreign, (old, old))
    os.utime(victim, (old, old))
    # Each download ends with a clean-up pass over the folder.
    for m in range(3):
        client.predict(f"synthetic-org/model-{m:04d}", "json", api_name="/download_samples")
        client.predict(f"synthetic-org/model-{m:04d}", "csv", api_name="/download_samples")
    assert (victim / "precious.txt").read_text() == "keep me"
    for name in planted:
        assert (exports / name).is_symlink()
    assert (foreign / "note.txt").exists()
    for name in planted:
        (exports / name).unlink()
    shutil.rmtree(foreign)


# -- item 8: formulas neutralised in CSV only ----------------------------------------------------

@pytest.mark.slow
def test_csv_downloads_neutralise_formulas_and_parquet_and_json_keep_the_values(app, client):
    csv_path = client.predict("synthetic-org/model-0000", "csv", api_name="/download_samples")
    with open(csv_path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    texts = [r[c] for r in rows for c in ("generation", "prediction", "prompt", "gold", "model")]
    assert not [t for t in texts if t[:1] in ("=", "+", "-", "@", "\t", "\r")]
    generations = [r["generation"] for r in rows if r["generation"]]
    for cell in FORMULA_CELLS:
        shown = "'" + cell.replace("\r", "\ufffd")
        assert shown in generations, (cell, generations[:8])
    parquet = pd.read_parquet(client.predict("synthetic-org/model-0000", "parquet", api_name="/download_samples"))
    assert set(FORMULA_CELLS) <= set(parquet["generation"].dropna())
    with open(client.predict("synthetic-org/model-0000", "json", api_name="/download_samples"), encoding="utf-8") as f:
        records = json.load(f)
    assert set(FORMULA_CELLS) <= {r["generation"] for r in records if r["generation"]}


# -- item 11: local paths (before the rate-limit test below uses up this address's allowance) --

@pytest.mark.slow
@pytest.mark.parametrize("path", ["/etc", "/nonexistent/model", "/root/.ssh", "/proc/self/cwd", "/etc/passwd",
                                  "/tmp", "/", "/dev/null"])
def test_local_paths_that_are_not_models_get_one_answer_whatever_exists(client, path):
    res = client.predict(path, "main", "auto", api_name="/submit")
    assert res["status"] == "rejected" and res["message"] == "Not a model folder.", res


# -- item 10 and 11: keyed client hash, duplicates on the resolved precision ---------------------

@pytest.mark.slow
def test_addresses_are_keyed_hashed_and_earlier_hashes_still_count_for_the_rate_limit(app, client, tiny_model_dir,
                                                                                     tmp_path):
    res = client.predict(str(tiny_model_dir), "main", "float32", api_name="/submit")
    assert res["status"] == "queued", res
    secret_file = app.data_dir / SECRET_FILE
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = bytes.fromhex(secret_file.read_text().strip())
    q = Queue(app.data_dir / "queue.sqlite")
    stored = q.get(res["request_id"]).client
    assert stored == hmac.new(secret, b"127.0.0.1", hashlib.sha256).hexdigest()[:32]
    assert stored != hashlib.sha256(b"127.0.0.1").hexdigest()[:16]
    # "auto" runs as float32 here: the same evaluation, refused as a duplicate.
    dup = client.predict(str(tiny_model_dir), "main", "auto", api_name="/submit")
    assert dup["status"] == "rejected" and res["request_id"] in dup["message"], dup
    # 2 earlier (unkeyed) + 1 queued; the limit is 4: one more passes, the next is refused.
    assert client.predict(str(variant_of(tiny_model_dir, tmp_path / "v1", "1")), "main", "auto",
                          api_name="/submit")["status"] == "queued"
    over = client.predict(str(variant_of(tiny_model_dir, tmp_path / "v2", "2")), "main", "auto", api_name="/submit")
    assert over["status"] == "rejected" and "limit" in over["message"], over
    q.close()


@pytest.mark.slow
def test_queue_status_shows_who_claimed_a_request_to_admins_only(app, client):
    q = Queue(app.data_dir / "queue.sqlite")
    claimed = q.claim("worker-host:4242")
    assert claimed is not None
    rows = client.predict(api_name="/queue_status")
    assert rows and all("claimed_by" not in r for r in rows)
    assert "worker-host" not in json.dumps(rows)
    q.close()


@pytest.mark.slow
def test_admin_is_a_logged_in_user_on_the_admin_list(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from explorer.api import is_admin
    from submissions.settings import Settings

    monkeypatch.setenv("POLYGLOT_ADMINS", "Boss")
    ctx = SimpleNamespace(settings=Settings(data_dir=tmp_path))
    assert is_admin(ctx, SimpleNamespace(username="boss"))
    assert not is_admin(ctx, SimpleNamespace(username="other")) and not is_admin(ctx, None)


@pytest.mark.slow
def test_a_second_apps_private_database_is_removed_on_sigterm(app, hostile_data):
    tmp = hostile_data / "tmp"
    before = set(tmp.glob("explorer-*.duckdb")) if tmp.exists() else set()
    second = RunningApp(hostile_data, "--no-worker", "--tick", "60")  # the first app holds the shared cache
    try:
        private = wait_until(lambda: set(tmp.glob("explorer-*.duckdb")) - before, timeout=30, what="private database")
        assert all(str(second.proc.pid) in p.name for p in private)
    finally:
        second.stop()  # SIGTERM to its process group
    assert second.proc.returncode is not None
    assert not (set(tmp.glob("explorer-*.duckdb*")) - before)


# -- item 9: names that look like links are text --------------------------------------------------

@pytest.mark.slow
def test_names_that_look_like_links_render_as_plain_text_in_the_leaderboard(app):
    from browser import chromium_page
    from playwright.sync_api import expect

    with chromium_page() as page:
        page.goto(app.url, wait_until="domcontentloaded")
        table = page.locator("#leaderboard-table")
        expect(table).to_contain_text("synthetic-org", timeout=60_000)
        search = page.locator("#filter-search textarea, #filter-search input").first
        search.fill("evil")
        search.press("Enter")
        expect(table).to_contain_text("www.evil.example", timeout=30_000)
        expect(table).to_contain_text("https://evil.example/x")
        hrefs = table.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href') || '')")
        assert all(h.startswith("https://huggingface.co/") for h in hrefs), hrefs
        assert not [h for h in hrefs if "evil" in h], hrefs


# -- the exports folder on its own: least recently used first, bounded builds -------------------

def _table(n: int) -> pd.DataFrame:
    return pd.DataFrame({"x": range(n), "text": ["=1+1"] * n})


def test_eviction_is_least_recently_used_first_and_never_touches_links(tmp_path):
    from explorer.downloads import ExportLimits, Exports

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("x")
    ex = Exports(tmp_path / "exports", ExportLimits(max_bytes=4500))  # two files of ~1.9 kB fit, not three
    (ex.folder / ("c" * 24)).symlink_to(outside, target_is_directory=True)
    paths = [ex.file(("t", i), "t", "csv", lambda: _table(200)) for i in range(2)]
    size = Path(paths[0]).stat().st_size
    assert 1700 < size < 2200 and ex.built == 2
    ex.file(("t", 0), "t", "csv", lambda: pytest.fail("a cached file is not rebuilt"))  # 0 is now the most recent
    third = ex.file(("t", 2), "t", "csv", lambda: _table(200))
    assert Path(paths[0]).exists() and not Path(paths[1]).exists() and Path(third).exists()
    assert (outside / "keep.txt").exists() and (ex.folder / ("c" * 24)).is_symlink()
    assert ex.prune(now=time.time() + 10 * 86400) == 2  # unused for longer than keep_s: gone
    assert (outside / "keep.txt").exists()


def test_builds_are_bounded_per_client_and_overall(tmp_path):
    import threading

    from explorer.downloads import DownloadBusy, ExportLimits, Exports

    ex = Exports(tmp_path / "exports", ExportLimits(per_client=1, overall=1, wait_s=0.5))
    release, started = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(10)
        return _table(3)

    t = threading.Thread(target=ex.file, args=(("slow",), "t", "csv", slow, "198.51.100.1"))
    t.start()
    assert started.wait(10)
    with pytest.raises(DownloadBusy, match="being prepared"):
        ex.file(("other",), "t", "csv", lambda: _table(3), "198.51.100.1")  # the same client
    with pytest.raises(DownloadBusy, match="try again"):
        ex.file(("third",), "t", "csv", lambda: _table(3), "198.51.100.2")  # the one slot is taken
    release.set()
    t.join(10)
    assert Path(ex.file(("third",), "t", "csv", lambda: _table(3), "198.51.100.2")).exists()
