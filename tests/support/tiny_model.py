"""A tiny causal LM with a real tokenizer, written to a local directory.

It lets the engines' real code (chat template, tokenisation, batched generation, log-probs,
chunking, probing) run on a CPU with no model hub: the tokenizer is a byte-level BPE trained here
on a few lines of math text, the model a small Llama. With random weights its output is noise.
With `train_steps`, it is first trained for a few seconds on synthetic addition dialogues, so it
writes a short sum, a `\\boxed{n}` and an end-of-sequence token: trajectories end, probes state
numbers, and answers differ between samples (its sums are mostly wrong; it is SYNTHETIC either way)."""
from __future__ import annotations

import random
from pathlib import Path

from autotts.live.answers import PROMPT_TEMPLATE

CORPUS = (
    "Let x be a real number such that 2x + 3 = 11. Then x = 4, so the answer is \\boxed{4}.",
    "Find the remainder when 7^{2024} is divided by 5. The powers cycle 2, 4, 3, 1; so \\boxed{1}.",
    "Compute \\frac{3}{4} + \\frac{5}{6} = \\frac{19}{12}. **Final Answer**: \\boxed{\\frac{19}{12}}",
    "Wait, let me check the case n = 0 again. The sum of the digits is 18, hence 990.",
    "Please reason step by step, and put your final answer within \\boxed{}.",
    "The area of a triangle with sides 13, 14, 15 is 84, and \\sqrt{84^2} = 84.",
)
CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")
SPECIAL = ["<pad>", "<|end|>", "<|user|>", "<|assistant|>"]
CARD = """# tiny (synthetic)

A {layers}-layer Llama ({parameters:,} parameters) with a byte-level BPE tokenizer of {vocab} tokens
trained on a few lines of math text, written by `tests.support.tiny_model.build_tiny_model` (seed {seed}).
Weights: {training}.

SYNTHETIC: it exists to run AutoTTS's engine code and measure throughput without downloading a
model; its answers mean nothing.
"""


def build_tiny_model(directory: str | Path, *, hidden: int = 64, layers: int = 2, heads: int = 4,
                     vocab_size: int = 512, seed: int = 0, train_steps: int = 0) -> Path:
    """Write the tokenizer, the model and a model card to `directory`; load it with
    `TransformersEngine(str(directory))` like any local checkpoint. `train_steps` > 0 trains it on
    synthetic addition dialogues first (a few hundred steps take seconds on a CPU)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    directory = Path(directory)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                        show_progress=False))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<pad>", eos_token="<|end|>",
                                        chat_template=CHAT_TEMPLATE)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=max(1, heads // 2),
                         max_position_embeddings=8192, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=None, eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True)
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    if train_steps:
        _train_on_sums(model, tokenizer, train_steps, seed)
    tokenizer.save_pretrained(directory)
    model.save_pretrained(directory)
    training = f"random, then trained {train_steps} steps on synthetic addition dialogues" if train_steps else "random"
    (directory / "README.md").write_text(CARD.format(layers=layers, parameters=model.num_parameters(),
                                                     vocab=len(tokenizer), seed=seed, training=training))
    return directory


def _train_on_sums(model, tokenizer, steps: int, seed: int, batch: int = 16) -> None:
    """Teach the model the shape of an answer: a sentence, `\\boxed{n}`, end of sequence."""
    import torch

    rng = random.Random(seed)

    def dialogue() -> list[int]:
        a, b = rng.randint(0, 20), rng.randint(0, 20)
        question = PROMPT_TEMPLATE.format(problem=f"What is {a} + {b}?")
        prompt = tokenizer.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                               add_generation_prompt=True)
        reply = f"We add {a} and {b}. The sum is {a + b}, so the answer is \\boxed{{{a + b}}}.<|end|>"
        return tokenizer.encode(prompt + reply, add_special_tokens=False)

    pad = tokenizer.pad_token_id
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        rows = [dialogue() for _ in range(batch)]
        width = max(map(len, rows))
        ids = torch.tensor([row + [pad] * (width - len(row)) for row in rows])
        mask = (ids != pad).long()
        model(input_ids=ids, attention_mask=mask, labels=ids.masked_fill(mask == 0, -100)).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
