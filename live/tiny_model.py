"""A tiny randomly initialised causal LM with a real tokenizer, written to a local directory.

It lets the transformers engine's real code (chat template, tokenisation, batched generation,
log-probs, chunking, probing) run on a CPU with no model hub: the tokenizer is a byte-level BPE
trained here on a few lines of math text, the model a small Llama with random weights. Its
output is noise, so it exercises mechanics and measures throughput; it answers nothing."""
from __future__ import annotations

from pathlib import Path

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
CARD = """# tiny-random (synthetic)

A randomly initialised {layers}-layer Llama ({parameters:,} parameters) with a byte-level BPE
tokenizer of {vocab} tokens trained on a few lines of math text, written by
`live.tiny_model.build_tiny_model` (seed {seed}). SYNTHETIC: its output is noise. It exists to
run AutoTTS's engine code and measure throughput without downloading a model.
"""


def build_tiny_model(directory: str | Path, *, hidden: int = 64, layers: int = 2, heads: int = 4,
                     vocab_size: int = 512, seed: int = 0) -> Path:
    """Write the tokenizer, the model and a model card to `directory`; load it with
    `TransformersEngine(str(directory))` like any local checkpoint."""
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
    tokenizer.save_pretrained(directory)
    model.save_pretrained(directory)
    (directory / "README.md").write_text(CARD.format(layers=layers, parameters=model.num_parameters(),
                                                     vocab=len(tokenizer), seed=seed))
    return directory
