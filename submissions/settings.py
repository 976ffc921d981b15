"""Settings of a deployment, from command-line flags and environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from evaluator.cards import DATA_DIR
from evaluator.settings import setting

from .policy import Policy, read_list


def _from_table(name: str):
    """A field whose default is read from the settings table (evaluator.settings) when Settings is made."""
    return field(default_factory=lambda: setting(name))


@dataclass
class Settings:
    data_dir: Path
    allow_local_models: bool = False
    max_params_b: float = _from_table("max_params_b")
    suite: str = _from_table("suite")
    lease_s: float = _from_table("lease_s")
    tick_s: float = _from_table("tick_s")
    # Where runs are published and read: empty for <data_dir>/results, else a folder or fsspec URL.
    store_url: str = _from_table("store_url")
    run_worker: bool = True
    worker_device: str = "auto"
    rate_per_user: int = _from_table("rate_per_user")
    rate_per_client: int = _from_table("rate_per_client")
    rate_window_days: float = _from_table("rate_window_days")
    # Where the queue lives: None is the data folder's SQLite file; postgresql://... to share it.
    queue_url: str | None = _from_table("queue_url")
    # Who runs evaluations: "local" (a child process per request, in the app) or a Ray cluster
    # ("ray://HEAD:10001", "ray:auto"); see evaluator.dispatch.
    dispatch: str = _from_table("dispatch")
    # Downloads: the exports folder's size cap, and how many files are built at once per client and overall.
    exports_max_mb: float = _from_table("exports_max_mb")
    downloads_per_client: int = _from_table("downloads_per_client")
    downloads_overall: int = _from_table("downloads_overall")
    # On a Hugging Face Space (SPACE_ID is set there) submitting needs a Hub login.
    require_login: bool = _from_table("require_login")

    # What "auto" precision means here, fixed when a request is queued so that "auto" and the precision
    # it stands for are one evaluation: $POLYGLOT_AUTO_PRECISION, else what the evaluating device runs
    # "auto" in (float32 on CPU; bfloat16 or float16 on GPUs, which Ray clusters are assumed to have).
    auto_precision: str = _from_table("auto_precision")

    def resolved_precision(self, precision: str) -> str:
        if precision != "auto":
            return precision
        if not self.auto_precision:
            # Decided without torch (the web app never imports it): a GPU is there when its device
            # node is, as torch.cuda would find it; on a GPU, "auto" is bfloat16 (evaluator.model).
            on_gpu = self.dispatch.startswith("ray") or (
                self.worker_device != "cpu" and os.environ.get("CUDA_VISIBLE_DEVICES", "0") not in ("", "-1")
                and Path("/dev/nvidiactl").exists())
            self.auto_precision = "bfloat16" if on_gpu else "float32"
        return self.auto_precision

    def policy(self) -> Policy:
        """Opt-outs from data/opt_out.txt and <data_dir>/opt_out.txt; admins from <data_dir>/admins.txt
        and $POLYGLOT_ADMINS (comma-separated Hub user names). Re-read on every submission."""
        admins = read_list(Path(self.data_dir) / "admins.txt")
        admins |= {a.strip().lower() for a in setting("admins").split(",") if a.strip()}
        return Policy(
            per_user=self.rate_per_user, per_client=self.rate_per_client, window_days=self.rate_window_days,
            require_login=self.require_login,
            opt_out=read_list(DATA_DIR / "opt_out.txt", Path(self.data_dir) / "opt_out.txt"), admins=admins,
        )
