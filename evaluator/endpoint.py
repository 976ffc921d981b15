"""Models behind OpenAI-compatible endpoints (vLLM, TGI, Ollama, transformers serve, hosted APIs).

A model id ``openai-compatible:BASE_URL`` plus the served model name names such a model. The API key,
when the server wants one, is read from the environment variable the settings name, at request time
only: it is never stored, logged, written to run.json or part of a cache key.

The client is httpx (a dependency of the app through Gradio; ``requirements-endpoints.txt`` pins it
for worker-only installs) rather than the ``openai`` package: retries must be counted into the run's
provenance and must honour ``Retry-After``, and the prompt-logprob fields multiple choice needs
(``echo`` + ``logprobs`` on ``/v1/completions``) are vLLM's extension that the typed client does not
model. Requests run on a bounded thread pool.
"""

from __future__ import annotations

import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from .errors import PolyglotError

PREFIX = "openai-compatible:"
RETRY_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class EndpointError(PolyglotError, RuntimeError):
    """The endpoint cannot be used (unreachable, refuses, answers malformed); the message says why."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status  # the HTTP status of a refusal, when there was one


class EndpointUnsupported(EndpointError):
    """The server lacks a capability a task needs (e.g. prompt logprobs); the task is skipped with this reason."""


def is_endpoint(model: str) -> bool:
    return isinstance(model, str) and model.startswith(PREFIX)


@dataclass
class EndpointOptions:
    """How to talk to an endpoint; everything here may be recorded (it holds no secret)."""

    served_model: str = ""
    api_key_env: str = ""  # name of the environment variable holding the key; "" for none
    concurrency: int = 4
    timeout_s: float = 120.0
    max_retries: int = 5
    backoff_s: float = 1.0  # first back-off; doubles per retry, capped at 30 s


@dataclass(frozen=True)
class EndpointSpec:
    base_url: str
    options: EndpointOptions

    @property
    def served_model(self) -> str:
        return self.options.served_model

    def describe(self) -> dict:
        """What run.json records about the endpoint (the key's variable name, never the key)."""
        o = self.options
        return {"base_url": self.base_url, "served_model": o.served_model, "api_key_env": o.api_key_env or None,
                "concurrency": o.concurrency, "timeout_s": o.timeout_s, "max_retries": o.max_retries}


def parse_endpoint(model: str, options: EndpointOptions) -> EndpointSpec:
    """``openai-compatible:http://host:8000/v1`` -> a spec; bad input gives a clear error."""
    if not is_endpoint(model):
        raise EndpointError(f"an endpoint model starts with {PREFIX!r} (got {model!r})")
    url = model[len(PREFIX):].strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise EndpointError(f"the endpoint's base URL must be http(s)://host[:port][/path] (got {url!r})")
    if not options.served_model.strip():
        raise EndpointError("an endpoint model needs the served model name (--served-model)")
    if options.api_key_env and not _ENV_NAME.match(options.api_key_env):
        raise EndpointError(f"--api-key-env takes an environment variable's name (got {options.api_key_env!r})")
    if options.concurrency < 1 or options.timeout_s <= 0 or options.max_retries < 0:
        raise EndpointError("endpoint concurrency must be >= 1, the timeout > 0 and retries >= 0")
    return EndpointSpec(url, options)


@dataclass
class Usage:
    """Requests, retries and tokens spent on the endpoint in this run (recorded in run.json)."""

    requests: int = 0  # HTTP requests sent, retries included
    retries: int = 0
    failures: int = 0  # requests that failed after every retry
    prompt_tokens: int = 0
    completion_tokens: int = 0
    by_route: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


class EndpointClient:
    def __init__(self, spec: EndpointSpec, sleep=time.sleep):
        import httpx

        self.spec = spec
        self.usage = Usage()
        self._lock = threading.Lock()
        self._sleep = sleep
        headers = {"Content-Type": "application/json"}
        env = spec.options.api_key_env
        if env:
            key = os.environ.get(env)
            if not key:
                raise EndpointError(f"the environment variable {env} (the endpoint's API key) is not set")
            headers["Authorization"] = f"Bearer {key}"
        self._http = httpx.Client(base_url=spec.base_url, headers=headers,
                                  timeout=httpx.Timeout(spec.options.timeout_s, connect=min(10.0, spec.options.timeout_s)))

    def close(self) -> None:
        self._http.close()

    def _count(self, **inc) -> None:
        with self._lock:
            for k, v in inc.items():
                setattr(self.usage, k, getattr(self.usage, k) + v)

    def post(self, route: str, payload: dict) -> dict:
        """POST ``payload`` to ``route``, retrying 429/5xx, timeouts and refused connections with back-off."""
        import httpx

        o = self.spec.options
        last = ""
        for attempt in range(o.max_retries + 1):
            if attempt:
                self._count(retries=1)
            self._count(requests=1)
            with self._lock:
                self.usage.by_route[route] = self.usage.by_route.get(route, 0) + 1
            wait = o.backoff_s * 2 ** attempt
            try:
                r = self._http.post(route, json=payload)
            except httpx.TimeoutException:
                last = f"no answer within {o.timeout_s:g} s"
            except httpx.TransportError as exc:
                last = f"cannot connect ({type(exc).__name__})"
            else:
                if r.status_code == 200:
                    try:
                        body = r.json()
                    except ValueError as exc:
                        raise EndpointError(f"{route} answered something that is not JSON") from exc
                    u = body.get("usage") or {}
                    self._count(prompt_tokens=int(u.get("prompt_tokens") or 0),
                                completion_tokens=int(u.get("completion_tokens") or 0))
                    return body
                detail = r.text[:300].replace("\n", " ")
                if r.status_code not in RETRY_STATUSES:
                    self._count(failures=1)
                    raise EndpointError(f"{self.spec.base_url}{route} answered HTTP {r.status_code}: {detail}",
                                        r.status_code)
                last = f"HTTP {r.status_code}: {detail}"
                after = r.headers.get("retry-after", "")
                if after.replace(".", "", 1).isdigit():
                    wait = max(wait, float(after))
            if attempt < o.max_retries:
                self._sleep(min(wait, 30.0))
        self._count(failures=1)
        raise EndpointError(f"{self.spec.base_url}{route} failed after {o.max_retries + 1} attempts: {last}")

    def map(self, fn, items: list) -> list:
        """``fn`` over ``items`` on at most ``concurrency`` threads, results in order; the first error is raised."""
        if len(items) <= 1 or self.spec.options.concurrency == 1:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(max_workers=self.spec.options.concurrency) as pool:
            return list(pool.map(fn, items))
