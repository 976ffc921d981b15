"""Build small random-initialised causal LMs with a real tokenizer, entirely offline.

Used by the tests, the smoke mode of the benchmark and the README's try-it-locally example:
a Llama-architecture model with a tokenizer trained on a few sentences in several scripts.
Three tokenizer families (``TOKENIZER_FAMILIES``), because they split text at word boundaries
differently: byte-level BPE (GPT-2, Llama-3, Qwen), SentencePiece-style BPE with a dummy ``▁``
prefix and byte fallback (Llama-2, Mistral) and Unigram over ``Metaspace`` (T5, XLM-R style).
Nothing is downloaded.
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


SPECIAL_TOKENS = ["<pad>", "<s>", "</s>"]


def _wrap(tok, **extra):
    """Add a BOS to single sequences and wrap as a transformers fast tokenizer."""
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   add_bos_token=True, **extra)


def _byte_bpe(vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(TOKENIZER_CORPUS * 4, trainer=trainer)
    return _wrap(tok)


def _sentencepiece_bpe(vocab_size: int):
    """Llama-2's tokenizer.json layout: normaliser ``Prepend("▁")`` + spaces as ``▁``, no
    pre-tokeniser, BPE with byte fallback (``<0xNN>`` tokens), a decoder that strips the dummy prefix."""
    import json

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    norm = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    specials = ["<unk>", *SPECIAL_TOKENS]
    trainee = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    trainee.normalizer = norm
    # Training only: pieces never span a word boundary, as SentencePiece's split_by_whitespace.
    trainee.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=True)
    trainee.train_from_iterator(TOKENIZER_CORPUS * 4, trainer=trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, max_token_length=16))
    trained = json.loads(trainee.to_str())["model"]
    vocab = {t: i for i, t in enumerate([*specials, *(f"<0x{b:02X}>" for b in range(256))])}
    for t, _ in sorted(trained["vocab"].items(), key=lambda kv: kv[1]):
        vocab.setdefault(t, len(vocab))
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in trained["merges"]]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = norm
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens(specials)
    return _wrap(tok, unk_token="<unk>")


def _unigram(vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    specials = ["<unk>", *SPECIAL_TOKENS]
    tok.train_from_iterator(TOKENIZER_CORPUS * 4, trainer=trainers.UnigramTrainer(
        vocab_size=vocab_size, special_tokens=specials, unk_token="<unk>"))
    return _wrap(tok, unk_token="<unk>")


TOKENIZER_FAMILIES = {"byte_bpe": _byte_bpe, "sentencepiece_bpe": _sentencepiece_bpe, "unigram": _unigram}


def train_tokenizer(vocab_size: int = 512, family: str = "byte_bpe"):
    """A tokenizer of ``family`` (see ``TOKENIZER_FAMILIES``) wrapped as a transformers fast tokenizer, with BOS added."""
    if family not in TOKENIZER_FAMILIES:
        raise ValueError(f"unknown tokenizer family {family!r}; known: {', '.join(TOKENIZER_FAMILIES)}")
    return TOKENIZER_FAMILIES[family](vocab_size)


def build_tiny_model(
    out_dir: str | Path,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    seed: int = 0,
    chat_template: bool = True,
    license: str | None = "apache-2.0",
    tokenizer_family: str = "byte_bpe",
) -> Path:
    """Write a tiny Llama model + tokenizer (safetensors) to ``out_dir`` and return the path."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(family=tokenizer_family)
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
