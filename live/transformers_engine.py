"""An engine over a Hugging Face transformers causal LM, on the CPU or a GPU.

For small models, tests and the GPU check (`scripts/gpu_check.sh`): there is no prefix cache, so
every chunk and probe recomputes its prompt, which is what vLLM is for at scale. Batches are
left-padded; `generate(output_logits=True)` gives the raw logits, whose log-softmax at each
sampled token is the same per-token log-probability vLLM reports. transformers' sampler draws
from one random stream per call, seeded from the batch's sequence seeds: a run is reproducible,
though (unlike vLLM's per-request seeds) a sequence's tokens depend on which others share its batch."""
from __future__ import annotations

import zlib

from autotts.live.engine import Sampling
from autotts.live.token_engine import Generation, TokenEngine


class TransformersEngine(TokenEngine):
    def __init__(self, model: str, sampling: Sampling = Sampling(), device: str | None = None,
                 dtype: str = "auto", max_batch: int = 64):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.max_batch = max_batch
        tokenizer = AutoTokenizer.from_pretrained(model)
        self.model = AutoModelForCausalLM.from_pretrained(model, dtype=dtype).to(self.device).eval()
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = tokenizer.eos_token_id
        self.eos = set(eos if isinstance(eos, list) else [eos])
        pad = tokenizer.pad_token_id
        self.pad = pad if pad is not None else min(self.eos)
        super().__init__(tokenizer, sampling)

    def _sample(self, prompts: list[list[int]], max_new: list[int], seeds: list[int]) -> list[Generation]:
        sp = self.sampling
        # exactly temperature and top-p, as vLLM applies them: top_k=0 turns off transformers' default top-50
        how = dict(do_sample=True, temperature=sp.temperature, top_p=sp.top_p, top_k=0) if sp.temperature > 0 else \
            dict(do_sample=False)
        devices = [self.model.device] if self.model.device.type == "cuda" else []
        with self.torch.random.fork_rng(devices=devices):  # seed our draws without touching the caller's RNG
            self.torch.manual_seed(zlib.crc32(repr(seeds).encode()))
            return self._generate(prompts, max_new, how, logprobs=True)

    def _greedy(self, prompts: list[list[int]], max_new: int) -> list[Generation]:
        return self._generate(prompts, [max_new] * len(prompts), dict(do_sample=False), logprobs=False)

    def _generate(self, prompts: list[list[int]], max_new: list[int], how: dict, logprobs: bool) -> list[Generation]:
        out: list[Generation] = []
        for start in range(0, len(prompts), self.max_batch):
            part = slice(start, start + self.max_batch)
            out.extend(self._generate_batch(prompts[part], max_new[part], how, logprobs))
        return out

    def _generate_batch(self, prompts: list[list[int]], max_new: list[int], how: dict,
                        logprobs: bool) -> list[Generation]:
        torch = self.torch
        width = max(map(len, prompts))
        ids = torch.tensor([[self.pad] * (width - len(p)) + p for p in prompts], device=self.device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=self.device)
        with torch.inference_mode():
            result = self.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max(max_new),
                                         pad_token_id=self.pad, eos_token_id=sorted(self.eos),
                                         output_logits=logprobs, return_dict_in_generate=True, **how)
            new = result.sequences[:, width:]
            if logprobs:
                logits = torch.stack(result.logits, dim=1).float()
                chosen = torch.log_softmax(logits, dim=-1).gather(-1, new.unsqueeze(-1)).squeeze(-1).tolist()
        out = []
        for row, (tokens, limit) in enumerate(zip(new.tolist(), max_new)):
            tokens = tokens[:limit]
            stop = next((i for i, t in enumerate(tokens) if t in self.eos), None)
            if stop is not None:
                tokens = tokens[:stop + 1]
            out.append(Generation(tokens, chosen[row][:len(tokens)] if logprobs else [], stop is not None))
        return out
