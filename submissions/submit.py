"""The submission path: validate, refuse duplicates, queue. Used by the form and the API."""

from __future__ import annotations

from dataclasses import dataclass

from evaluator.cards import get_suite
from evaluator.endpoint import EndpointError, EndpointOptions, is_endpoint, parse_endpoint

from .policy import client_key, deployment_secret, legacy_client_key
from workqueue import LimitReached, Queue, Request
from .settings import Settings
from .validate import HubClient, Rejected, is_local_path, validate_hub_model, validate_local_model


@dataclass
class SubmitResult:
    status: str  # "queued" or "rejected"
    message: str
    request_id: str | None = None

    def as_dict(self) -> dict:
        return {"status": self.status, "message": self.message, "request_id": self.request_id}


def _describe(existing: Request) -> str:
    state = existing.status
    if existing.status == "FAILED" and existing.error:
        state += f" ({existing.error[:200]})"
    return (f"{existing.model_id} at commit {existing.sha[:12]} in {existing.precision} was already submitted "
            f"(request {existing.id}, {state}).")


class Submissions:
    def __init__(self, queue: Queue, settings: Settings, hub_client_factory=HubClient):
        self.queue = queue
        self.settings = settings
        self.hub_client_factory = hub_client_factory
        self._secret: bytes | None = None

    def client_key(self, address: str | None) -> str | None:
        if address and self._secret is None:
            self._secret = deployment_secret(self.settings.data_dir)
        return client_key(address, self._secret) if address else None

    def submit(self, model_id, revision="main", precision="auto", submitter: str | None = None,
               client: str | None = None) -> SubmitResult:
        try:
            if not isinstance(model_id, str):
                raise Rejected("The model id must be text.")
            if is_endpoint(model_id.strip()):
                raise Rejected("Models behind endpoints are added by the leaderboard's admins; submit a Hugging Face "
                               "model id (org/model).")
            policy = self.settings.policy()
            key = self.client_key(client)
            limits = policy.check(self.queue, model_id.strip(), submitter, key, legacy_client_key(client))
            if is_local_path(model_id):
                if not self.settings.allow_local_models:
                    raise Rejected("Local folders cannot be submitted here; give a Hugging Face model id (org/model).")
                valid = validate_local_model(model_id, precision, self.settings.max_params_b)
            else:
                valid = validate_hub_model(model_id, revision, precision, self.hub_client_factory(),
                                           self.settings.max_params_b)
            valid.precision = self.settings.resolved_precision(valid.precision)  # duplicates compare what runs
            suite = get_suite(self.settings.suite)
            req, duplicate = self.queue.add(
                model_id=valid.model_id, revision=valid.revision, sha=valid.sha, precision=valid.precision,
                source=valid.source, suite=suite.id, tasks=list(suite.tasks), params=valid.params,
                license=valid.license, submitter=submitter, client=key, limits=limits,
            )
        except LimitReached as exc:
            return SubmitResult("rejected", policy.limit_message(exc.limit))
        except Rejected as exc:
            return SubmitResult("rejected", str(exc))
        if duplicate is not None:
            return SubmitResult("rejected", _describe(duplicate), duplicate.id)
        size = f", {valid.params / 1e9:.2f}B parameters" if valid.params else ""
        return SubmitResult(
            "queued",
            f"Queued {valid.model_id} at commit {valid.sha[:12]} ({valid.precision}{size}) as request {req.id}.",
            req.id,
        )

    def submit_endpoint(self, base_url, served_model, api_key_env="", submitter: str | None = None) -> SubmitResult:
        """An admin adds a model behind an OpenAI-compatible endpoint. The API key stays in the workers'
        environment under ``api_key_env``; only that name is queued."""
        policy = self.settings.policy()
        if not submitter or submitter.lower() not in policy.admins:
            return SubmitResult("rejected", "Only the leaderboard's admins (signed in) can add endpoint models.")
        try:
            spec = parse_endpoint(f"openai-compatible:{str(base_url or '').strip()}",
                                  EndpointOptions(served_model=str(served_model or "").strip(),
                                                  api_key_env=str(api_key_env or "").strip()))
        except EndpointError as exc:
            return SubmitResult("rejected", str(exc))
        suite = get_suite(self.settings.suite)
        model_id = f"openai-compatible:{spec.base_url}"
        req, duplicate = self.queue.add(
            model_id=model_id, revision=spec.served_model, sha=spec.served_model, precision="auto", source="endpoint",
            suite=suite.id, tasks=list(suite.tasks), submitter=submitter, api_key_env=spec.options.api_key_env or None,
        )
        if duplicate is not None:
            return SubmitResult("rejected", _describe(duplicate), duplicate.id)
        return SubmitResult("queued", f"Queued {spec.served_model} at {spec.base_url} as request {req.id}.", req.id)
