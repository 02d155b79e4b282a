"""The vLLM engine (GPU environment only; vLLM is imported lazily, so this module loads anywhere).

Each chunk continues a sequence with `LLM.generate` on a `TokensPrompt`, so vLLM's prefix cache
makes the shared prefix (and every probe of it) cheap; `SamplingParams(logprobs=1)` returns the
sampled token's log-probability, behind chunk confidence. Calls are batched over all sequences of
a round, and each request has its own seed, so a sequence's tokens do not depend on its batch."""
from __future__ import annotations

from autotts.live.engine import Sampling
from autotts.live.token_engine import Generation, TokenEngine


class VLLMEngine(TokenEngine):
    def __init__(self, model: str, sampling: Sampling = Sampling(), **llm_kwargs):
        from vllm import LLM  # the GPU environment has it; nothing else needs it

        self.llm = LLM(model=model, enable_prefix_caching=True, seed=sampling.seed, **llm_kwargs)
        super().__init__(self.llm.get_tokenizer(), sampling)

    def _generate(self, prompts: list[list[int]], params: list) -> list[Generation]:
        from vllm.inputs import TokensPrompt

        results = self.llm.generate([TokensPrompt(prompt_token_ids=p) for p in prompts], params, use_tqdm=False)
        out = []
        for result in results:
            completion = result.outputs[0]
            ids = list(completion.token_ids)
            steps = completion.logprobs or []
            logprobs = [step[token].logprob for token, step in zip(ids, steps) if step and token in step]
            out.append(Generation(ids, logprobs, completion.finish_reason == "stop"))
        return out

    def _sample(self, prompts: list[list[int]], max_new: list[int], seeds: list[int]) -> list[Generation]:
        from vllm import SamplingParams

        sp = self.sampling
        return self._generate(prompts, [SamplingParams(temperature=sp.temperature, top_p=sp.top_p, logprobs=1,
                                                       seed=seed, max_tokens=n) for n, seed in zip(max_new, seeds)])

    def _greedy(self, prompts: list[list[int]], max_new: int) -> list[Generation]:
        from vllm import SamplingParams

        return self._generate(prompts, [SamplingParams(temperature=0.0, max_tokens=max_new)] * len(prompts))
