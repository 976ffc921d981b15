"""What every tab and endpoint needs: the results store, the queue, submissions, settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evaluator.run_store import RunStore
from evaluator.store import StoreLayout
from workqueue import Queue, open_queue
from submissions.settings import Settings
from submissions.submit import Submissions

from .downloads import ExportLimits, Exports
from .store import ResultStore


@dataclass
class AppContext:
    settings: Settings
    store: ResultStore
    queue: Queue
    submissions: Submissions
    exports: Path
    downloads: Exports | None = None

    @classmethod
    def create(cls, settings: Settings, hub_client_factory=None) -> "AppContext":
        layout = StoreLayout(settings.data_dir).ensure()
        queue = open_queue(layout.queue_db, lease_s=settings.lease_s, url=settings.queue_url)
        kwargs = {"hub_client_factory": hub_client_factory} if hub_client_factory else {}
        # Runs load in the background: the page answers at once with what the store already holds.
        store = ResultStore(settings.data_dir, background=True, params_provider=lambda: {
            r.model_id: r.params / 1e9 for r in queue.list(limit=100000) if r.params},
            runs=RunStore.for_data_dir(settings.data_dir, settings.store_url))
        exports = layout.root / "exports"
        downloads = Exports(exports, ExportLimits(max_bytes=int(settings.exports_max_mb * 1024**2),
                                                  per_client=settings.downloads_per_client,
                                                  overall=settings.downloads_overall))
        return cls(settings, store, queue, Submissions(queue, settings, **kwargs), exports, downloads)
