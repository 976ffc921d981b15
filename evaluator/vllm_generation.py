"""Generation with vLLM, for long generations (IFEval, Multi-IF, translation), same outputs.

vLLM needs its own environment (vllm 0.33 pins torch 2.14.0 and transformers < 5.21), so it is
optional: ``--generation-backend vllm`` on a GPU machine where it is installed. Loglikelihood scoring
stays on transformers, where context sharing makes it faster than vLLM's prompt logprobs.
"""

from __future__ import annotations

from .errors import PolyglotError
from .generation import GenOutput, GenRequest

INSTALL_HINT = ("vLLM is not installed. It needs its own environment on a GPU machine: "
                "python -m venv .venv-vllm && .venv-vllm/bin/pip install vllm==0.33.0 -r requirements.txt "
                "(vLLM pins its own torch and transformers).")


class VLLMUnavailable(PolyglotError, RuntimeError):
    pass


class VLLMGenerator:
    def __init__(self, model_folder: str, dtype: str, max_model_len: int, gpu_memory_utilization: float = 0.45,
                 seed: int = 0):
        try:
            from vllm import LLM
        except ImportError as exc:
            raise VLLMUnavailable(INSTALL_HINT) from exc
        # The transformers copy of the model stays loaded for scoring: leave it room on the device.
        self.llm = LLM(model=model_folder, dtype=dtype, max_model_len=max_model_len, seed=seed,
                       gpu_memory_utilization=gpu_memory_utilization, trust_remote_code=False,
                       enable_prefix_caching=True)

    def generate(self, requests: list[GenRequest]) -> list[GenOutput]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        outputs: list[GenOutput | None] = [None] * len(requests)
        by_kind: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            by_kind.setdefault((r.stop, r.max_new_tokens, r.sampling), []).append(i)
        for (stop, max_new, sampling), idx in by_kind.items():
            sample = {"temperature": sampling[0], "top_p": sampling[1], "seed": sampling[2]} if sampling else {
                "temperature": 0.0}
            params = SamplingParams(**sample, max_tokens=max_new, stop=list(stop) or None, skip_special_tokens=True)
            results = self.llm.generate([TokensPrompt(prompt_token_ids=requests[i].prompt_ids) for i in idx], params,
                                        use_tqdm=False)
            for i, res in zip(idx, results):
                out = res.outputs[0]
                if isinstance(out.stop_reason, str):
                    reason = "stop_string"
                elif out.finish_reason == "stop":
                    reason = "eos"
                else:
                    reason = "length"
                outputs[i] = GenOutput(text=out.text, raw=out.text, n_tokens=len(out.token_ids), stopped_by=reason)
        return outputs  # type: ignore[return-value]
