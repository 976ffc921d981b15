"""The model-facing engine: batched scoring, generation and embeddings behind a response cache.

Kinds of tasks call the three methods below with token-level requests; the engine skips what the
cache already holds, runs the rest in chunks (committing each chunk to the cache) and reports
progress after every chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import ENGINE_VERSION
from .batching import TokenBudget, auto_token_budget
from .cache import ResponseCache, decode_array, decode_json, encode_array, encode_json, request_key
from .embeddings import pooled_hidden_states
from .generation import GenOutput, GenRequest, generate_greedy
from .loglikelihood import ChoiceGroup, ChoiceScores, ScoringStats, score_packed, score_plain, supports_packed
from .model import LoadedModel


class JobCancelled(RuntimeError):
    """Raised from a progress callback to stop a job (its lease was lost, or it was cancelled)."""


@dataclass
class NumericsGuard:
    """Agreement of the packed path with the plain path on a sample of items."""

    checked_items: int = 0
    max_abs_diff: float = 0.0
    mean_abs_diff_per_token: float = 0.0
    argmax_agreement: float = 1.0
    near_ties: int = 0  # items whose top-2 margin is below 0.05 nats
    path: str = "packed"
    reason: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class EngineOptions:
    path: str = "auto"  # auto | packed | plain
    token_budget: int | None = None
    chunk_size: int | None = None
    static_cache: bool = False
    guard_items: int = 32
    generation_backend: str = "hf"  # hf | vllm


@dataclass
class Engine:
    lm: LoadedModel
    cache: ResponseCache
    options: EngineOptions = field(default_factory=EngineOptions)
    on_progress: Callable[[int], None] | None = None
    stats: ScoringStats = field(default_factory=ScoringStats)
    guard: NumericsGuard | None = None

    def __post_init__(self):
        self.budget = TokenBudget(self.options.token_budget or auto_token_budget(self.lm.model, self.lm.device))
        self.chunk_size = self.options.chunk_size or (2048 if self.lm.device.type == "cuda" else 64)
        self._identity = [ENGINE_VERSION, self.lm.name, self.lm.revision, self.lm.dtype_name, self.lm.chat_template_hash]
        self._vllm = None
        if self.options.generation_backend == "vllm":
            from .vllm_generation import VLLMGenerator

            self._vllm = VLLMGenerator(self.lm.folder, self.lm.dtype_name, self.lm.max_length)
        elif self.options.generation_backend != "hf":
            raise ValueError(f"unknown generation backend {self.options.generation_backend!r} (hf or vllm)")

    # -- helpers -------------------------------------------------------------------------
    def _report(self, n: int) -> None:
        if self.on_progress and n:
            self.on_progress(n)

    def _cached_run(self, kind: str, keys: list[str], compute, encode, decode) -> list:
        """Serve ``keys`` from the cache, compute the rest chunk by chunk, commit each chunk."""
        found = self.cache.get_many(keys)
        results: list = [None] * len(keys)
        todo = []
        for i, k in enumerate(keys):
            if k in found:
                results[i] = decode(found[k])
            else:
                todo.append(i)
        self._report(len(keys) - len(todo))
        for start in range(0, len(todo), self.chunk_size):
            chunk = todo[start : start + self.chunk_size]
            values = compute(chunk)
            for i, v in zip(chunk, values):
                results[i] = v
            self.cache.put_many(kind, [(keys[i], encode(v)) for i, v in zip(chunk, values)])
            self._report(len(chunk))
        return results

    # -- loglikelihood -------------------------------------------------------------------
    def _choose_path(self, groups: list[ChoiceGroup]) -> str:
        if self.guard is not None:
            return self.guard.path
        wanted = self.options.path
        if wanted == "plain" or (wanted == "auto" and not supports_packed(self.lm.model)):
            self.guard = NumericsGuard(path="plain", reason="requested" if wanted == "plain" else
                                       f"{self.lm.model.config.model_type} is scored one row per choice")
            return "plain"
        self.guard = self.check_numerics(groups[: self.options.guard_items])
        if wanted == "auto" and not self._guard_ok(self.guard):
            self.guard.path = "plain"
            self.guard.reason = "the packed path disagreed with the plain path; using the plain path"
        return self.guard.path

    def check_numerics(self, sample: list[ChoiceGroup]) -> NumericsGuard:
        pad = self.lm.pad_id
        budget = TokenBudget(self.budget.tokens)
        plain = score_plain(self.lm.model, sample, budget, pad)
        packed = score_packed(self.lm.model, sample, budget, pad)
        diffs, per_tok, agree, ties = [], [], 0, 0
        for g, a, b in zip(sample, plain, packed):
            for x, y, n in zip(a.loglik, b.loglik, a.n_tokens):
                diffs.append(abs(x - y))
                per_tok.append(abs(x - y) / n)
            agree += int(np.argmax(a.loglik) == np.argmax(b.loglik))
            s = sorted(a.loglik, reverse=True)
            ties += int(len(s) > 1 and s[0] - s[1] < 0.05)
        n = max(1, len(sample))
        return NumericsGuard(
            checked_items=len(sample),
            max_abs_diff=max(diffs, default=0.0),
            mean_abs_diff_per_token=float(np.mean(per_tok)) if per_tok else 0.0,
            argmax_agreement=agree / n,
            near_ties=ties,
            path="packed",
        )

    def _guard_ok(self, g: NumericsGuard) -> bool:
        if self.lm.dtype_name == "float32":
            return g.max_abs_diff < 1e-3
        return g.mean_abs_diff_per_token < 0.1

    def loglikelihood(self, groups: list[ChoiceGroup]) -> list[ChoiceScores]:
        if not groups:
            return []
        path = self._choose_path(groups)
        keys = [request_key(*self._identity, "loglik", g.context, g.continuations) for g in groups]
        scorer = score_packed if path == "packed" else score_plain

        def compute(chunk):
            return scorer(self.lm.model, [groups[i] for i in chunk], self.budget, self.lm.pad_id, self.stats)

        return self._cached_run(
            "loglik", keys, compute,
            encode=lambda s: encode_json([s.loglik, s.is_greedy, s.n_tokens]),
            decode=lambda b: ChoiceScores(*decode_json(b)),
        )

    # -- generation ----------------------------------------------------------------------
    def generate(self, requests: list[GenRequest]) -> list[GenOutput]:
        backend = self.options.generation_backend
        keys = [request_key(*self._identity, "generate", backend, r.prompt_ids, list(r.stop), r.max_new_tokens,
                            *([list(r.sampling)] if r.sampling else [])) for r in requests]

        def compute(chunk):
            if self._vllm is not None:
                return self._vllm.generate([requests[i] for i in chunk])
            return generate_greedy(self.lm.model, self.lm.tokenizer, [requests[i] for i in chunk], self.budget,
                                   static_cache=self.options.static_cache)

        return self._cached_run(
            "generate", keys, compute,
            encode=lambda o: encode_json(o.__dict__),
            decode=lambda b: GenOutput(**decode_json(b)),
        )

    # -- embeddings ----------------------------------------------------------------------
    def embed(self, sequences: list[list[int]]) -> list[np.ndarray]:
        keys = [request_key(*self._identity, "embed", s) for s in sequences]

        def compute(chunk):
            return pooled_hidden_states(self.lm.model, [sequences[i] for i in chunk], self.budget, self.lm.pad_id)

        return self._cached_run("embed", keys, compute, encode=encode_array, decode=decode_array)
