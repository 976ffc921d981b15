"""Build small random-initialised causal LMs with a real tokenizer, entirely offline.

Used by the tests, the smoke mode of the benchmark and the README's try-it-locally example:
a Llama-architecture model with a byte-level BPE tokenizer trained on a few sentences in
several scripts. Nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

# Sentences written for this purpose; together they cover the scripts of the starter suite.
TOKENIZER_CORPUS = [
    "The quick brown fox jumps over the lazy dog. Answer: yes, no, maybe.",
    "Question: how many apples are left? Answer: 12. 1,250 people came.",
    "Le petit chat dort sur la chaise. Réponse : oui. Élève, où est l'école ?",
    "El niño come pan con queso. ¿Dónde está la estación? Respuesta: sí.",
    "Der Zug fährt um sieben Uhr ab. Antwort: Straße, Brücke, Größe.",
    "Mtoto anasoma kitabu shuleni. Jibu: ndiyo.",
    "Кошка спит на тёплой крыше. Ответ: да. Привіт, як справи? Відповідь: так.",
    "القطة تنام على السطح الدافئ. الجواب: نعم.",
    "बिल्ली गरम छत पर सो रही है। उत्तर: हाँ।",
    "猫在温暖的屋顶上睡觉。答案：是。今天是春节。",
    "猫は暖かい屋根の上で寝ています。答え：はい。カタカナ、ひらがな。",
    "แมวนอนอยู่บนหลังคาที่อบอุ่น คำตอบ: ใช่",
    "0 1 2 3 4 5 6 7 8 9 10 100 1000 * - # ** *** << >> [ ] { } \" ' P.S.",
]


def train_tokenizer(vocab_size: int = 512):
    """A byte-level BPE tokenizer wrapped as a transformers fast tokenizer, with BOS added."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<pad>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(TOKENIZER_CORPUS * 4, trainer=trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        add_bos_token=True,
    )


def build_tiny_model(
    out_dir: str | Path,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    seed: int = 0,
    chat_template: bool = True,
    license: str | None = "apache-2.0",
) -> Path:
    """Write a tiny Llama model + tokenizer (safetensors) to ``out_dir`` and return the path."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer()
    if chat_template:
        tokenizer.chat_template = (
            "{% for m in messages %}<s>{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
            "{% if add_generation_prompt %}<s>assistant:{% endif %}"
        )
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    if license:
        (out / "README.md").write_text(f"---\nlicense: {license}\n---\n# tiny test model\n")
    return out


if __name__ == "__main__":  # pragma: no cover - convenience for trying the app locally
    import sys

    path = build_tiny_model(sys.argv[1] if len(sys.argv) > 1 else "tiny-model")
    print(json.dumps({"model_dir": str(path)}))
