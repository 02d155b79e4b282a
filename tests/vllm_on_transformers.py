"""A stand-in for the `vllm` package (which needs a GPU and cannot share our environment), backed
by a real transformers model, so `VLLMEngine`'s own code runs in the tests.

It offers the slice of vLLM's offline API the engine uses — `LLM(model, seed=..., ...)`,
`get_tokenizer()`, `generate(prompts, params, use_tqdm=...)`, `SamplingParams`, and
`vllm.inputs.TokensPrompt` — and returns outputs shaped like vLLM's: `outputs[0]` with
`token_ids` (the end-of-sequence token included), `text`, `finish_reason` ("stop" or "length"),
and `logprobs` as one dict per position holding the sampled token and the top-ranked one (top
first, as vLLM's ordering does not promise the sampled token comes first). Each request is
generated on its own with its own seed, as vLLM's per-request seeds make it."""
from __future__ import annotations

import types
from dataclasses import dataclass


@dataclass
class SamplingParams:
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 16
    seed: int | None = None
    logprobs: int | None = None


@dataclass
class Logprob:
    logprob: float
    rank: int


class LLM:
    def __init__(self, model: str, seed: int = 0, enable_prefix_caching: bool = False, **_):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.model = AutoModelForCausalLM.from_pretrained(model).eval()
        self.seed = seed

    def get_tokenizer(self):
        return self.tokenizer

    def generate(self, prompts: list[dict], params: list[SamplingParams], use_tqdm: bool = True) -> list:
        return [self._one(p["prompt_token_ids"], sp) for p, sp in zip(prompts, params)]

    def _one(self, prompt: list[int], sp: SamplingParams):
        torch = self.torch
        torch.manual_seed(self.seed if sp.seed is None else sp.seed)
        how = dict(do_sample=True, temperature=sp.temperature, top_p=sp.top_p, top_k=0) if sp.temperature > 0 else {}
        with torch.inference_mode():
            out = self.model.generate(torch.tensor([prompt]), max_new_tokens=sp.max_tokens, output_logits=True,
                                      return_dict_in_generate=True, pad_token_id=self.tokenizer.pad_token_id, **how)
        ids = out.sequences[0, len(prompt):].tolist()
        eos = self.model.generation_config.eos_token_id
        stopped = eos in ids
        ids = ids[:ids.index(eos) + 1] if stopped else ids
        logprobs = None
        if sp.logprobs:
            logprobs = []
            for token, logits in zip(ids, out.logits):
                logp = torch.log_softmax(logits[0].float(), dim=-1)
                top = int(logp.argmax())
                step = {top: Logprob(float(logp[top]), 1)}
                step.setdefault(token, Logprob(float(logp[token]), int((logp > logp[token]).sum()) + 1))
                logprobs.append(step)
        completion = types.SimpleNamespace(token_ids=ids, text=self.tokenizer.decode(ids, skip_special_tokens=True),
                                           logprobs=logprobs, finish_reason="stop" if stopped else "length")
        return types.SimpleNamespace(outputs=[completion])


def install(monkeypatch) -> None:
    """Make `import vllm` and `from vllm.inputs import TokensPrompt` find this stand-in."""
    import sys

    vllm = types.ModuleType("vllm")
    vllm.LLM, vllm.SamplingParams = LLM, SamplingParams
    inputs = types.ModuleType("vllm.inputs")
    inputs.TokensPrompt = dict  # vLLM's is a TypedDict: a dict with prompt_token_ids
    vllm.inputs = inputs
    monkeypatch.setitem(sys.modules, "vllm", vllm)
    monkeypatch.setitem(sys.modules, "vllm.inputs", inputs)
