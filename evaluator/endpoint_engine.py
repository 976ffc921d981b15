"""The engine for a model behind an OpenAI-compatible endpoint: the same three calls as ``Engine``,
answered over HTTP and kept in the same response cache (so a killed run resumes without paying again).

- Generation: ``/chat/completions`` for conversations (instruction following, multi-turn, and cards whose
  ``prompt.style`` is ``chat``), ``/completions`` for completion prompts, with the card's decoding.
- Multiple choice: ``/completions`` with ``echo`` and ``logprobs`` (prompt logprobs, as vLLM returns
  them); a server without them raises ``EndpointUnsupported`` and the task is skipped with that reason.
- Hidden states (alignment) are not available from an endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ENGINE_VERSION
from .batching import TokenBudget
from .cache import decode_json, encode_json, request_key
from .encoding import SpecialTokens
from .endpoint import EndpointClient, EndpointError, EndpointSpec, EndpointUnsupported
from .engine import Engine
from .generation import GenOutput, GenRequest, cut_at_stop
from .loglikelihood import ChoiceGroup, ChoiceScores

MAX_STOP = 4  # OpenAI's limit on stop strings; the rest are cut here, after the answer arrives
NO_HIDDEN_STATES = "hidden states (needed for alignment) are not available from an endpoint"


@dataclass
class EndpointModel:
    """Stands where ``LoadedModel`` stands for a local model; there is no tokenizer on this side."""

    spec: EndpointSpec
    tokenizer: object = None
    model: object = None
    specials: SpecialTokens = field(default_factory=lambda: SpecialTokens((), ()))
    max_length: int = 10**9  # the server truncates or refuses; its window is not known here
    chat_template_hash: str = ""
    pad_id: int = 0
    folder: str = ""
    dtype_name: str = "endpoint"
    has_chat_template: bool = False  # the server applies its own template to chat requests

    @property
    def name(self) -> str:
        return self.spec.served_model

    @property
    def revision(self) -> str:
        # What is served cannot be pinned to a commit; the served name and the URL stand for it (and
        # keep rows of one served model from being reused for another).
        return f"endpoint:{self.spec.served_model}@{self.spec.base_url}"

    @property
    def device(self) -> str:
        return "endpoint"


class EndpointEngine(Engine):
    def __post_init__(self):
        self.spec: EndpointSpec = self.lm.spec
        self.client = EndpointClient(self.spec)
        self.budget = TokenBudget(1)
        self.stats.path = "endpoint"
        # Small chunks: each is committed to the cache, so little is paid twice after a kill.
        self.chunk_size = self.options.chunk_size or 4 * self.spec.options.concurrency
        self._identity = [ENGINE_VERSION, "openai-compatible", self.spec.base_url, self.spec.served_model]

    def close(self) -> None:
        self.client.close()

    # -- generation ----------------------------------------------------------------------
    def _route(self, r: GenRequest) -> tuple[str, dict]:
        body: dict = {"model": self.spec.served_model, "max_tokens": r.max_new_tokens,
                      "temperature": r.temperature}
        if r.temperature > 0:
            body.update(top_p=r.top_p, seed=r.seed)
        if r.stop:
            body["stop"] = list(r.stop)[:MAX_STOP]
        if r.messages:
            return "/chat/completions", {**body, "messages": [dict(m) for m in r.messages]}
        return "/completions", {**body, "prompt": r.prompt}

    def _generate_one(self, r: GenRequest) -> GenOutput:
        route, body = self._route(r)
        reply = self.client.post(route, body)
        try:
            choice = reply["choices"][0]
            raw = choice["message"]["content"] if route == "/chat/completions" else choice["text"]
        except (KeyError, IndexError, TypeError) as exc:
            raise EndpointError(f"{route} answered without choices[0] text: {str(reply)[:200]}") from exc
        raw = raw or ""
        text, hit = cut_at_stop(raw, r.stop)
        finish = choice.get("finish_reason")
        # vLLM says which stop string ended the answer (stripped from the text, as OpenAI does).
        stop_reason = choice.get("stop_reason")
        if hit or isinstance(stop_reason, str):
            stopped_by = "stop_string"
        else:
            stopped_by = "length" if finish == "length" else "eos"
        n = int((reply.get("usage") or {}).get("completion_tokens") or 0)
        return GenOutput(text=text, raw=raw, n_tokens=n, stopped_by=stopped_by)

    def generate(self, requests: list[GenRequest]) -> list[GenOutput]:
        keys = [request_key(*self._identity, "generate", *self._route(r)) for r in requests]

        def compute(chunk):
            return self.client.map(self._generate_one, [requests[i] for i in chunk])

        return self._cached_run("generate", keys, compute, encode=lambda o: encode_json(o.__dict__),
                                decode=lambda b: GenOutput(**decode_json(b)))

    # -- loglikelihood -------------------------------------------------------------------
    def _choice_logprob(self, context: str, continuation: str) -> tuple[float, bool, int]:
        prompt = context + continuation
        body = {"model": self.spec.served_model, "prompt": prompt, "max_tokens": 1, "temperature": 0,
                "echo": True, "logprobs": 1}
        try:
            reply = self.client.post("/completions", body)
        except EndpointError as exc:
            if exc.status in (400, 404, 422, 501):  # e.g. a hosted API that refuses echo with logprobs
                raise EndpointUnsupported(f"the server refuses prompt logprobs (echo + logprobs): {exc}") from exc
            raise
        try:
            lp = reply["choices"][0].get("logprobs") or {}
        except (KeyError, IndexError, TypeError, AttributeError):
            lp = {}
        tokens, token_lps, offsets = lp.get("tokens"), lp.get("token_logprobs"), lp.get("text_offset")
        if not tokens or not token_lps or not offsets or len(token_lps) != len(offsets):
            raise EndpointUnsupported("the server returns no prompt logprobs (/v1/completions with echo and "
                                      "logprobs), which scoring multiple choice needs")
        top = lp.get("top_logprobs") or [None] * len(tokens)
        total, greedy, n = 0.0, True, 0
        # Tokens that start inside the continuation; the generated token (at len(prompt)) is not scored.
        for tok, value, off, alts in zip(tokens, token_lps, offsets, top):
            if len(context) <= off < len(prompt):
                if value is None:
                    raise EndpointUnsupported("the server's prompt logprobs leave continuation tokens unscored")
                total += float(value)
                n += 1
                if alts:
                    greedy = greedy and max(alts, key=alts.get) == tok
        if n == 0:
            raise EndpointUnsupported("the server's prompt logprobs do not cover the continuation (echo ignored?)")
        return total, greedy, n

    def loglikelihood(self, groups: list[ChoiceGroup]) -> list[ChoiceScores]:
        if not groups:
            return []
        keys = [request_key(*self._identity, "loglik", g.context_text, list(g.continuation_texts)) for g in groups]

        def one(g: ChoiceGroup) -> ChoiceScores:
            scored = [self._choice_logprob(g.context_text, c) for c in g.continuation_texts]
            return ChoiceScores([s[0] for s in scored], [s[1] for s in scored], [s[2] for s in scored])

        def compute(chunk):
            return self.client.map(one, [groups[i] for i in chunk])

        return self._cached_run("loglik", keys, compute,
                                encode=lambda s: encode_json([s.loglik, s.is_greedy, s.n_tokens]),
                                decode=lambda b: ChoiceScores(*decode_json(b)))

    # -- embeddings ----------------------------------------------------------------------
    def embed(self, sequences):
        raise EndpointUnsupported(NO_HIDDEN_STATES)
