"""chrF++ against the sacrebleu command line, and the translation kind's aggregation."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from evaluator.metrics.chrf import corpus_chrf, sentence_chrf
from evaluator.metrics.language_id import is_untranslated

HYPS = ["The cat sat on the mat.", "It is raining cats and dogs today!", "Grandparents give red envelopes.",
        "Le chat dort.", ""]
REFS = ["The cat is sitting on the mat.", "It's pouring with rain today.", "Grandparents hand out red envelopes.",
        "The cat sleeps.", "Nothing to see here."]


@pytest.mark.slow
def test_corpus_chrf_matches_the_sacrebleu_command_line(tmp_path):
    (tmp_path / "hyp.txt").write_text("\n".join(HYPS) + "\n", encoding="utf-8")
    (tmp_path / "ref.txt").write_text("\n".join(REFS) + "\n", encoding="utf-8")
    exe = shutil.which("sacrebleu") or str((__import__("pathlib").Path(sys.executable).parent / "sacrebleu"))
    out = subprocess.run([exe, str(tmp_path / "ref.txt"), "-i", str(tmp_path / "hyp.txt"), "-m", "chrf",
                          "--chrf-word-order", "2", "-b", "-w", "6"], capture_output=True, text=True, check=True)
    cli = float(out.stdout.strip())
    ours = corpus_chrf(HYPS, REFS)
    assert ours.score == pytest.approx(cli, abs=1e-4)
    assert ours.ci_low <= ours.score <= ours.ci_high
    assert "nw:2" in ours.signature and "nc:6" in ours.signature


def test_corpus_score_is_not_the_mean_of_sentence_scores():
    mean_sentence = sum(sentence_chrf(h, r) for h, r in zip(HYPS, REFS)) / len(HYPS)
    assert abs(corpus_chrf(HYPS, REFS).score - mean_sentence) > 0.5


@pytest.mark.slow  # builds lingua's detector for every language
def test_untranslated_output_is_detected():
    english = "The cat has been sleeping on the sofa since this morning."
    assert is_untranslated(english, "eng_Latn", "fra_Latn") == (True, "eng")  # left in the source language
    assert is_untranslated("Le chat dort sur le canapé depuis ce matin.", "eng_Latn", "fra_Latn") == (False, "fra")
    assert is_untranslated("猫从早上开始就一直在沙发上睡觉。", "zho_Hans", "eng_Latn")[0] is True
    assert is_untranslated("ok", "eng_Latn", "fra_Latn") == (False, None)  # too short to tell
