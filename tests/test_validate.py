"""Every submission check, with huggingface_hub's own model-info objects and exception classes."""

from __future__ import annotations

import json
import time

import httpx2
import pytest
from huggingface_hub import ModelInfo, errors

from workqueue import Queue
from submissions.settings import Settings
from submissions.submit import Submissions
from submissions.validate import Rejected, validate_hub_model, validate_local_model

SHA = "0123456789abcdef0123456789abcdef01234567"
LLAMA_CONFIG = {"model_type": "llama", "architectures": ["LlamaForCausalLM"]}


def info(**overrides) -> ModelInfo:
    base = dict(
        id="org/model", sha=SHA, private=False, gated=False, disabled=False,
        siblings=[{"rfilename": n} for n in ("config.json", "model.safetensors", "tokenizer_config.json", "tokenizer.json")],
        cardData={"license": "apache-2.0"}, safetensors={"parameters": {"BF16": 1_000_000}, "total": 1_000_000},
    )
    base.update(overrides)
    return ModelInfo(**base)


def http_error(cls, status: int, message: str):
    response = httpx2.Response(status, request=httpx2.Request("GET", "https://huggingface.co/api/models/org/model"))
    return cls(message, response=response)


class FakeHub:
    """Stands in for the Hub: returns real ModelInfo objects or raises huggingface_hub's errors."""

    def __init__(self, model_info=None, config=None, error=None, config_error=None, params=None):
        self._info = model_info if model_info is not None else info()
        self._config = LLAMA_CONFIG if config is None else config
        self._error = error
        self._config_error = config_error
        self._params = params
        self.calls = []

    def model_info(self, repo_id, revision):
        self.calls.append(("model_info", repo_id, revision))
        if self._error:
            raise self._error
        return self._info

    def read_json(self, repo_id, filename, sha):
        self.calls.append(("read_json", filename, sha))
        if self._config_error:
            raise self._config_error
        if isinstance(self._config, str):
            return json.loads(self._config)
        return self._config

    def parameter_count(self, repo_id, sha):
        return self._params


def test_a_good_model_is_accepted_and_pinned_to_its_commit():
    hub = FakeHub()
    v = validate_hub_model("org/model", "main", "bf16", hub)
    assert (v.sha, v.precision, v.params, v.license, v.source) == (SHA, "bfloat16", 1_000_000, "apache-2.0", "hub")
    assert ("read_json", "config.json", SHA) in hub.calls  # the config is read at the pinned commit


@pytest.mark.parametrize("error,needle", [
    (lambda: http_error(errors.RepositoryNotFoundError, 404, "Repository Not Found"), "not found on the Hub, or it is private"),
    (lambda: http_error(errors.GatedRepoError, 403, "gated"), "is gated"),
    (lambda: http_error(errors.RevisionNotFoundError, 404, "Revision Not Found"), "does not exist"),
    (lambda: httpx2.ConnectError("[Errno -2] Name or service not known"), "cannot be reached"),
    (lambda: httpx2.ReadTimeout("timed out"), "cannot be reached"),
    (lambda: errors.OfflineModeIsEnabled("offline"), "cannot be reached"),
])
def test_hub_failures_have_their_own_messages(error, needle):
    with pytest.raises(Rejected, match=needle):
        validate_hub_model("org/model", "main", "auto", FakeHub(error=error()))


@pytest.mark.parametrize("overrides,needle", [
    ({"siblings": [{"rfilename": n} for n in ("config.json", "pytorch_model.bin", "tokenizer_config.json")]}, "pickled weights"),
    ({"siblings": [{"rfilename": n} for n in ("config.json", "tokenizer_config.json")]}, "no weights in safetensors"),
    ({"siblings": [{"rfilename": n} for n in ("config.json", "model.safetensors")]}, "no tokenizer"),
    ({"siblings": [{"rfilename": n} for n in ("model.safetensors", "tokenizer_config.json")]}, "no config.json"),
    ({"cardData": {}}, "no license"),
    ({"sha": None}, "does not resolve to a commit"),
    ({"disabled": True}, "disabled"),
    ({"safetensors": {"parameters": {"BF16": 200_000_000_000}, "total": 200_000_000_000}}, "200.0B parameters"),
])
def test_repository_contents_are_checked(overrides, needle):
    with pytest.raises(Rejected, match=needle):
        validate_hub_model("org/model", "main", "auto", FakeHub(model_info=info(**overrides)))


@pytest.mark.parametrize("config,needle", [
    ({"model_type": "llama", "auto_map": {"AutoModelForCausalLM": "modeling_x.X"}}, "custom code"),
    ({"model_type": "definitely_not_real"}, "does not know"),
    ({"model_type": "vit"}, "not a causal"),
    ("[1, 2", "malformed"),
    ([1, 2], "malformed"),
])
def test_config_is_checked(config, needle):
    with pytest.raises(Rejected, match=needle):
        validate_hub_model("org/model", "main", "auto", FakeHub(config=config))


def test_parameter_count_falls_back_to_safetensors_metadata():
    hub = FakeHub(model_info=info(safetensors=None), params=7_000_000_000)
    with pytest.raises(Rejected, match="7.0B"):
        validate_hub_model("org/model", "main", "auto", hub, max_params_b=3)


@pytest.mark.parametrize("model_id", ["../../etc/passwd", "/etc/passwd", "~/x", "https://huggingface.co/org/m",
                                      "org/mo del", "org//model", "a" * 500, "org/model\x00", "", "org/model.git"])
def test_invalid_ids_are_rejected_before_any_hub_call(model_id):
    hub = FakeHub()
    with pytest.raises(Rejected):
        validate_hub_model(model_id, "main", "auto", hub)
    assert hub.calls == []


def test_unknown_precision_is_rejected():
    with pytest.raises(Rejected, match="precision"):
        validate_hub_model("org/model", "main", "int3", FakeHub())


def test_unreachable_hub_is_reported_quickly_and_nothing_is_queued(tmp_path, monkeypatch):
    """The real client against the real (unreachable) network."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    q = Queue(tmp_path / "q.sqlite")
    subs = Submissions(q, Settings(data_dir=tmp_path))
    start = time.monotonic()
    res = subs.submit("org/model", "main", "auto")
    assert time.monotonic() - start < 10
    assert res.status == "rejected" and "cannot be reached" in res.message
    assert q.list() == []


def test_duplicates_point_to_the_existing_request(tmp_path):
    q = Queue(tmp_path / "q.sqlite")
    subs = Submissions(q, Settings(data_dir=tmp_path), hub_client_factory=FakeHub)
    first = subs.submit("org/model", "main", "bfloat16")
    assert first.status == "queued"
    again = subs.submit("org/model", "main", "bf16")
    assert again.status == "rejected" and first.request_id in again.message and again.request_id == first.request_id
    other = subs.submit("org/model", "main", "float32")
    assert other.status == "queued"


def test_local_models_need_the_flag(tmp_path, tiny_model_dir):
    q = Queue(tmp_path / "q.sqlite")
    res = Submissions(q, Settings(data_dir=tmp_path)).submit(str(tiny_model_dir))
    assert res.status == "rejected" and "Local folders" in res.message
    res = Submissions(q, Settings(data_dir=tmp_path, allow_local_models=True)).submit(str(tiny_model_dir))
    assert res.status == "queued"


def test_local_folder_checks(tmp_path, tiny_model_dir):
    import shutil

    v = validate_local_model(str(tiny_model_dir), "auto")
    assert v.params and v.params > 10_000 and v.license == "apache-2.0"
    bad = tmp_path / "remote-code"
    shutil.copytree(tiny_model_dir, bad)
    cfg = json.loads((bad / "config.json").read_text())
    cfg["auto_map"] = {"AutoModelForCausalLM": "x.Y"}
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(Rejected, match="custom code"):
        validate_local_model(str(bad), "auto")
    pickled = tmp_path / "pickled"
    shutil.copytree(tiny_model_dir, pickled)
    (pickled / "model.safetensors").rename(pickled / "pytorch_model.bin")
    with pytest.raises(Rejected, match="pickled"):
        validate_local_model(str(pickled), "auto")
    with pytest.raises(Rejected, match="absolute"):
        validate_local_model("relative/path", "auto")
