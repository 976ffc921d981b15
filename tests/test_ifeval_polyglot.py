"""IFEval / M-IFEval / Multi-IF checks against hand-written golden responses in several languages."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import BENCHMARKS
from evaluator.metrics.ifeval_polyglot import (
    COMMON_CHECKS,
    LANGUAGE_SPECIFIC_CHECKS,
    InstructionResult,
    count_sentences,
    count_words,
    detect_language,
    evaluate_response,
    prompt_level,
    split_sentences,
    supported,
)

M_IFEVAL_DATA = BENCHMARKS / "m-ifeval" / "data"
LANGUAGE_OF_FILE = {"en": "eng_Latn", "es": "spa_Latn", "fr": "fra_Latn", "ja": "jpn_Jpan"}


def case(iid, kwargs, response, language, strict, loose, note):
    return pytest.param(iid, kwargs, response, language, strict, loose, id=f"{iid}-{note}")


# (instruction id, kwargs, response, item language, strict, loose). Every verdict is worked out by hand
# in the note or the comment beside it.
CASES = [
    # ---- keywords -------------------------------------------------------------------------------
    case("keywords:existence", {"keywords": ["dog", "park"]}, "I took my Dog to the park.", "eng_Latn",
         True, True, "en-case-insensitive"),
    case("keywords:existence", {"keywords": ["dog", "park"]}, "I took my cat home.", "eng_Latn",
         False, False, "en-missing"),
    case("keywords:existence", {"keywords": ["北京"]}, "我住在北京。", "zho_Hans", True, True, "zh-substring"),
    case("ja:keywords:existence", {"keywords": ["猫"]}, "私は猫が好きです。", "jpn_Jpan", True, True, "ja"),
    case("keywords:frequency", {"keyword": "data", "frequency": 3, "relation": "at least"},
         "Data beats opinions. data is king. We love DATA.", "eng_Latn", True, True, "en-3-at-least-3"),
    case("keywords:frequency", {"keyword": "data", "frequency": 2, "relation": "less than"},
         "Data beats opinions. data is king. We love DATA.", "eng_Latn", False, False, "en-3-not-less-than-2"),
    case("es:keywords:frequency", {"keyword": "casa", "frequency": 1, "relation": "como máximo"},
         "Mi casa es tu casa.", "spa_Latn", False, False, "es-2-not-at-most-1"),
    case("es:keywords:frequency", {"keyword": "casa", "frequency": 1, "relation": "como máximo"},
         "Mi casa es grande.", "spa_Latn", True, True, "es-1-at-most-1"),
    case("keywords:frequency", {"keyword": "แมว", "frequency": 2, "relation": "at least"},
         "ฉันรักแมว แมวน่ารัก", "tha_Thai", True, True, "th-substring-2"),
    case("keywords:forbidden_words", {"forbidden_words": ["cat"]}, "A category of things.", "eng_Latn",
         True, True, "en-cat-not-in-category"),
    case("keywords:forbidden_words", {"forbidden_words": ["cat"]}, "The Cat sat.", "eng_Latn",
         False, False, "en-whole-word"),
    case("keywords:forbidden_words", {"forbidden_words": ["苹果"]}, "我喜欢吃苹果。", "zho_Hans",
         False, False, "zh-substring"),
    case("keywords:forbidden_words", {"forbidden_words": ["แมว"]}, "ฉันรักแมวมาก", "tha_Thai",
         False, False, "th-substring"),
    case("keywords:forbidden_words", {"forbidden_words": ["apple"]}, "我喜欢apple手机", "zho_Hans",
         False, False, "latin-word-inside-cjk"),
    case("keywords:forbidden_words", {"forbidden_words": ["Straße"]}, "Die STRASSE ist lang.", "deu_Latn",
         False, False, "de-casefold"),
    # "किताबें" is किताब + a vowel sign: a different word, which IFEval's \b would wrongly match.
    case("keywords:forbidden_words", {"forbidden_words": ["किताब"]}, "यह किताबें हैं", "hin_Deva",
         True, True, "hi-vowel-sign-is-part-of-word"),
    case("keywords:letter_frequency", {"letter": "a", "let_frequency": 3, "let_relation": "at least"},
         "A banana", "eng_Latn", True, True, "en-4-a"),
    case("fr:keywords:letter_frequency", {"letter": "z", "let_frequency": 1, "let_relation": "au moins"},
         "Bonjour", "fra_Latn", False, False, "fr-no-z"),
    case("ja:keywords:letter_frequency", {"letter": "か", "let_frequency": 2, "let_relation": "以上"},
         "カメラとかばん", "jpn_Jpan", True, True, "ja-katakana-twin-counts"),
    # ---- language -------------------------------------------------------------------------------
    case("language:response_language", {"language": "fr"},
         "Bonjour, je m'appelle Marie et j'habite à Paris depuis dix ans.", "eng_Latn", True, True, "fr"),
    case("language:response_language", {"language": "ja"},
         "私は東京に住んでいます。毎日電車で会社に行きます。", "eng_Latn", True, True, "ja"),
    case("language:response_language", {"language": "zh-CN"},
         "我每天早上喝咖啡，然后去上班。", "eng_Latn", True, True, "zh-variant"),
    case("language:response_language", {"language": "ar"},
         "أنا أحب القراءة كثيرا وأذهب إلى المكتبة كل يوم.", "eng_Latn", True, True, "ar"),
    case("language:response_language", {"language": "fr"},
         "I live in London and I work there every single day.", "fra_Latn", False, False, "en-is-not-fr"),
    # Kannada is unknown to lingua: the script decides.
    case("language:response_language", {"language": "kn"}, "ನಾನು ಬೆಂಗಳೂರಿನಲ್ಲಿ ವಾಸಿಸುತ್ತೇನೆ.", "eng_Latn",
         True, True, "kn-by-script"),
    case("language:response_language", {"language": "kn"}, "I live in Bangalore.", "eng_Latn",
         False, False, "kn-by-script-fails"),
    # ---- length constraints ---------------------------------------------------------------------
    case("length_constraints:number_sentences", {"num_sentences": 3, "relation": "at least"},
         "Dr. Smith arrived. It cost 3.5 dollars. He left.", "eng_Latn", True, True, "en-3-abbrev-decimal"),
    case("length_constraints:number_sentences", {"num_sentences": 3, "relation": "less than"},
         "Dr. Smith arrived. It cost 3.5 dollars. He left.", "eng_Latn", False, False, "en-3-not-less-than-3"),
    case("length_constraints:number_sentences", {"num_sentences": 3, "relation": "at least"},
         "今天天气很好。我们去公园吧！你觉得呢？", "zho_Hans", True, True, "zh-3-full-stops"),
    case("length_constraints:number_sentences", {"num_sentences": 2, "relation": "less than"},
         "यह पहला वाक्य है। यह दूसरा वाक्य है।", "hin_Deva", False, False, "hi-danda-2"),
    case("ja:length_constraints:number_sentences", {"num_sentences": 3, "relation": "未満"},
         "これは一文です。これは二文です。", "jpn_Jpan", True, True, "ja-2-under-3"),
    case("length_constraints:number_sentences", {"num_sentences": 2, "relation": "at least"},
         "วันนี้อากาศดี ฉันจะไปตลาด", "tha_Thai", True, True, "th-space-between-thai"),
    case("es:length_constraints:number_sentences", {"num_sentences": 2, "relation": "como máximo"},
         "Hola. ¿Cómo estás? Bien.", "spa_Latn", False, False, "es-3-not-at-most-2"),
    case("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "Primer párrafo.\n***\nSegundo párrafo.",
         "spa_Latn", True, True, "two"),
    case("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "A\n***\n***\nB", "eng_Latn",
         False, False, "empty-paragraph"),
    # The preamble line makes three paragraphs; without the first line there are two.
    case("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "Here you go:\n***\nP1\n***\nP2",
         "eng_Latn", False, True, "loose-drops-preamble"),
    case("length_constraints:number_words", {"num_words": 10, "relation": "at least"},
         "我喜欢吃苹果和Apple iPhone 15", "zho_Hans", True, True, "zh-7-han-plus-3"),
    case("length_constraints:number_words", {"num_words": 12, "relation": "less than"},
         "これは日本語の文章です。", "jpn_Jpan", True, True, "ja-11-chars"),
    case("length_constraints:number_words", {"num_words": 6, "relation": "at least"},
         "สวัสดีครับ วันนี้อากาศดีมาก", "tha_Thai", True, True, "th-10+16-chars-6-words"),
    case("length_constraints:number_words", {"num_words": 6, "relation": "less than"},
         "สวัสดีครับ วันนี้อากาศดีมาก", "tha_Thai", False, False, "th-not-less-than-6"),
    case("length_constraints:number_words", {"num_words": 5, "relation": "less than"},
         "यह एक किताब है।", "hin_Deva", True, True, "hi-4-words"),
    case("length_constraints:number_words", {"num_words": 3, "relation": "at least"},
         "Привет, как дела?", "rus_Cyrl", True, True, "ru-3"),
    case("length_constraints:number_words", {"num_words": 5, "relation": "less than"},
         "One two three four five", "eng_Latn", False, False, "en-5-not-less-than-5"),
    case("length_constraints:nth_paragraph_first_word",
         {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "however"},
         "First paragraph.\n\nHowever, the second one.", "eng_Latn", True, True, "en"),
    case("length_constraints:nth_paragraph_first_word",
         {"num_paragraphs": 3, "nth_paragraph": 1, "first_word": "first"},
         "First.\n\nSecond.", "eng_Latn", False, False, "en-wrong-count"),
    case("fr:length_constraints:nth_paragraph_first_word",
         {"num_paragraphs": 2, "nth_paragraph": 1, "first_word": "bonjour"},
         "« Bonjour », dit-il.\n\nFin.", "fra_Latn", True, True, "fr-guillemets"),
    case("es:length_constraints:nth_paragraph_first_word",
         {"num_paragraphs": 1, "nth_paragraph": 1, "first_word": "por otro lado"},
         "¿Por otro lado, qué piensas?", "spa_Latn", True, True, "es-several-words"),
    case("ja:length_constraints:nth_paragraph_first_word",
         {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "しかし"},
         "最初の段落です。\n\n「しかし、二番目です。", "jpn_Jpan", True, True, "ja-prefix"),
    # ---- detectable content ---------------------------------------------------------------------
    case("detectable_content:number_placeholders", {"num_placeholders": 2},
         "Dear [name], see you at [place].", "eng_Latn", True, True, "en-2"),
    case("detectable_content:number_placeholders", {"num_placeholders": 3},
         "Dear [name], see you at [place].", "eng_Latn", False, False, "en-2-of-3"),
    case("ja:detectable_content:number_placeholders", {"num_placeholders": 2},
         "［名前］様、[場所]で会いましょう。", "jpn_Jpan", True, True, "ja-full-width"),
    case("es:detectable_content:number_placeholders", {"num_placeholders": 1, "relation": "al menos"},
         "Hola [nombre]", "spa_Latn", True, True, "es-relation"),
    case("detectable_content:postscript", {"postscript_marker": "P.S."},
         "Hello.\n\nP.S. See you soon.", "eng_Latn", True, True, "en-ps"),
    case("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Hi\nP. P. S: bye", "eng_Latn",
         True, True, "en-pps-spaced"),
    case("fr:detectable_content:postscript", {"postscript_marker": "PS"},
         "La psychologie est fascinante.", "fra_Latn", False, False, "fr-ps-not-in-word"),
    case("fr:detectable_content:postscript", {"postscript_marker": "PS"},
         "Merci.\nPS : à bientôt.", "fra_Latn", True, True, "fr-ps"),
    case("ja:detectable_content:postscript", {"postscript_marker": "追伸"}, "本文です。\n追伸：またね。",
         "jpn_Jpan", True, True, "ja"),
    case("es:detectable_content:postscript", {"postscript_marker": "Nota"}, "Gracias.\nNota: vuelvo mañana.",
         "spa_Latn", True, True, "es-nota"),
    # ---- detectable format ----------------------------------------------------------------------
    case("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* one\n* two", "eng_Latn",
         True, True, "en-stars"),
    # Three dashes strictly; dropping the first line leaves two.
    case("detectable_format:number_bullet_lists", {"num_bullets": 2}, "- one\n- two\n- three", "eng_Latn",
         False, True, "en-loose"),
    case("es:detectable_format:number_bullet_lists", {"num_bullets": 2}, "- uno\n- dos", "spa_Latn",
         False, False, "es-only-stars"),
    case("ja:detectable_format:number_bullet_lists", {"num_bullets": 3}, "・りんご\n・みかん\n・ぶどう", "jpn_Jpan",
         True, True, "ja-nakaguro"),
    case("detectable_format:number_bullet_lists", {"num_bullets": 2}, "・一\n・二", "zho_Hans",
         False, False, "zh-no-nakaguro"),
    case("detectable_format:constrained_response", {}, "My answer is yes.", "eng_Latn", True, True, "en"),
    case("detectable_format:constrained_response", {}, "Yes.", "eng_Latn", False, False, "en-bare-yes"),
    case("es:detectable_format:constrained_response", {}, "Sí.", "spa_Latn", True, True, "es"),
    case("fr:detectable_format:constrained_response", {}, "Peut-être.", "fra_Latn", True, True, "fr"),
    case("ja:detectable_format:constrained_response", {}, "はい、そうです。", "jpn_Jpan", True, True, "ja"),
    # "*important*" and "**bold**" (the "**" pieces are empty and do not count).
    case("detectable_format:number_highlighted_sections", {"num_highlights": 2},
         "This is *important* and **bold** text.", "eng_Latn", True, True, "en-2"),
    case("detectable_format:number_highlighted_sections", {"num_highlights": 3},
         "This is *important* and **bold** text.", "eng_Latn", False, False, "en-2-of-3"),
    case("ja:detectable_format:number_highlighted_sections", {"num_highlights": 2},
         "《重要》な点と《注意》点です。", "jpn_Jpan", True, True, "ja-brackets"),
    case("es:detectable_format:number_highlighted_sections", {"num_highlights": 1, "relation": "al menos"},
         "Esto es *clave*.", "spa_Latn", True, True, "es-relation"),
    case("detectable_format:multiple_sections", {"section_spliter": "Section", "num_sections": 2},
         "Section 1\nIntro\nSection 2\nBody", "eng_Latn", True, True, "en-2"),
    case("detectable_format:multiple_sections", {"section_spliter": "Section", "num_sections": 3},
         "Section 1\nIntro\nSection 2\nBody", "eng_Latn", False, False, "en-2-of-3"),
    case("ja:detectable_format:multiple_sections", {"section_spliter": "章", "num_sections": 2},
         "第1章\n始まり\n第二章\n終わり", "jpn_Jpan", True, True, "ja-digits-and-kansuuji"),
    case("es:detectable_format:multiple_sections",
         {"section_spliter": "Sección", "num_sections": 2, "relation": "al menos"},
         "Sección 1\nA\nSección 2\nB", "spa_Latn", True, True, "es"),
    case("detectable_format:json_format", {}, '```json\n{"a": 1}\n```', "eng_Latn", True, True, "fenced"),
    case("detectable_format:json_format", {}, "{a: 1}", "eng_Latn", False, False, "invalid"),
    case("detectable_format:json_format", {}, "[" * 5000, "eng_Latn", False, False, "deep-nesting"),
    case("detectable_format:title", {}, "<<My Poem>>\nRoses are red.", "eng_Latn", True, True, "en"),
    case("detectable_format:title", {}, "<<   >>\nRoses are red.", "eng_Latn", False, False, "en-empty"),
    case("fr:detectable_format:title", {}, "##Mon titre##\nTexte", "fra_Latn", True, True, "fr-hashes"),
    case("fr:detectable_format:title", {}, "<<Mon titre>>\nTexte", "fra_Latn", False, False, "fr-not-angles"),
    case("ja:detectable_format:title", {}, "『春の歌』\n本文", "jpn_Jpan", True, True, "ja"),
    # ---- combination ----------------------------------------------------------------------------
    case("combination:two_responses", {}, "Answer one.\n******\nAnswer two.", "eng_Latn", True, True, "two"),
    case("combination:two_responses", {}, "Same\n******\nSame", "eng_Latn", False, False, "identical"),
    case("combination:repeat_prompt", {"prompt_to_repeat": "Write a haiku about rain."},
         "Write a haiku about rain. Drops fall on the roof.", "eng_Latn", True, True, "en"),
    case("combination:repeat_prompt", {"prompt_to_repeat": "Write a haiku about rain."},
         "Sure!\nWrite a haiku about rain. Drops fall.", "eng_Latn", False, True, "en-loose"),
    # ---- start / end ----------------------------------------------------------------------------
    case("startend:end_checker", {"end_phrase": "Any other questions?"},
         '"Here it is. Any other questions?"', "eng_Latn", True, True, "en-quoted"),
    case("startend:end_checker", {"end_phrase": "Peace"}, "That is all. Peace.", "eng_Latn",
         False, False, "en-trailing-dot"),
    case("es:startend:end_checker", {"end_phrase": "Un saludo"}, "Gracias por todo. Un saludo.", "spa_Latn",
         True, True, "es-trailing-dot-forgiven"),
    case("ja:startend:end_checker", {"end_phrase": "他にご質問はありますか？"},
         "「説明です。他にご質問はありますか？」", "jpn_Jpan", True, True, "ja-kagikakko"),
    case("startend:end_checker", {"end_phrase": "D'autres questions ?"},
         "« Voici. D'autres questions ? »", "fra_Latn", True, True, "fr-guillemets"),
    case("startend:quotation", {}, '"Hello world"', "eng_Latn", True, True, "en"),
    case("startend:quotation", {}, "Hello world", "eng_Latn", False, False, "en-bare"),
    case("startend:quotation", {}, "« Bonjour »", "fra_Latn", True, True, "fr-guillemets"),
    case("startend:quotation", {}, "„Hallo Welt“", "deu_Latn", True, True, "de-low-high"),
    case("startend:quotation", {}, "«Привет»", "rus_Cyrl", True, True, "ru-guillemets"),
    case("startend:quotation", {}, "“你好”", "zho_Hans", True, True, "zh-curly"),
    case("startend:quotation", {}, "«مرحبا»", "arb_Arab", True, True, "ar-guillemets"),
    case("ja:startend:quotation", {}, "「こんにちは」", "jpn_Jpan", True, True, "ja-kagikakko"),
    case("ja:startend:quotation", {}, '"こんにちは"', "jpn_Jpan", False, False, "ja-straight-refused"),
    case("startend:quotation", {}, 'Sure, here it is:\n"The answer."', "eng_Latn", False, True, "loose"),
    # ---- change case ----------------------------------------------------------------------------
    case("change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": "at least"},
         "This is VERY IMPORTANT and STATE-OF-THE-ART.", "eng_Latn", True, True, "en-3"),
    case("change_case:capital_word_frequency", {"capital_frequency": 3, "capital_relation": "less than"},
         "This is VERY IMPORTANT and STATE-OF-THE-ART.", "eng_Latn", False, False, "en-3-not-less-than-3"),
    case("es:change_case:capital_word_frequency", {"capital_frequency": 1, "capital_relation": "como máximo"},
         "Es MUY importante.", "spa_Latn", True, True, "es-1"),
    case("change_case:capital_word_frequency", {"capital_frequency": 1, "capital_relation": "at least"},
         "Это ОЧЕНЬ важно.", "rus_Cyrl", True, True, "ru-cyrillic"),
    case("change_case:english_capital", {},
         "THIS IS A SHORT ANSWER IN ENGLISH, WRITTEN ENTIRELY IN CAPITAL LETTERS.", "eng_Latn", True, True, "en"),
    case("change_case:english_capital", {}, "THIS is mixed case.", "eng_Latn", False, False, "mixed"),
    case("change_case:english_capital", {}, "CECI EST UNE RÉPONSE ENTIÈREMENT EN FRANÇAIS ET EN MAJUSCULES.",
         "fra_Latn", False, False, "french-capitals"),
    case("change_case:english_lowercase", {}, "this is a short answer written in lowercase english letters.",
         "eng_Latn", True, True, "en"),
    case("change_case:english_lowercase", {}, "This is not lowercase.", "eng_Latn", False, False, "capital"),
    case("change_case:english_lowercase", {}, "ceci est une réponse entièrement en français et en minuscules.",
         "fra_Latn", False, False, "french-lowercase"),
    # ---- punctuation ----------------------------------------------------------------------------
    case("punctuation:no_comma", {}, "No commas here.", "eng_Latn", True, True, "en"),
    case("punctuation:no_comma", {}, "Yes, a comma.", "eng_Latn", False, False, "en-comma"),
    case("ja:punctuation:no_comma", {}, "これは、読点です。", "jpn_Jpan", False, False, "ja-touten"),
    case("punctuation:no_comma", {}, "你好，世界", "zho_Hans", False, False, "zh-fullwidth"),
    case("punctuation:no_comma", {}, "مرحبا، كيف حالك", "arb_Arab", False, False, "ar-comma"),
    case("punctuation:no_comma", {}, "Sure, here it is:\nNo commas in this part.", "eng_Latn",
         False, True, "loose-drops-first-line"),
    # ---- M-IFEval Spanish -----------------------------------------------------------------------
    case("es:change_case:spanish_capital", {}, "ESTA ES UNA RESPUESTA COMPLETAMENTE EN ESPAÑOL Y EN MAYÚSCULAS.",
         "spa_Latn", True, True, "caps"),
    case("es:change_case:spanish_capital", {}, "Esta respuesta no está en mayúsculas.", "spa_Latn",
         False, False, "not-caps"),
    case("es:change_case:spanish_lowercase", {}, "esta es una respuesta completamente en español y en minúsculas.",
         "spa_Latn", True, True, "lower"),
    case("es:change_case:spanish_lowercase", {}, "this is an english answer in lowercase letters only.",
         "spa_Latn", False, False, "english"),
    case("es:punctuation:exclamation_marks", {}, "¡Qué bonito día!", "spa_Latn", True, True, "pair"),
    case("es:punctuation:exclamation_marks", {}, "Qué bonito día!", "spa_Latn", False, False, "no-opening"),
    case("es:punctuation:question_marks", {}, "¿Cómo estás?", "spa_Latn", True, True, "pair"),
    case("es:punctuation:question_marks", {}, "Cómo estás?", "spa_Latn", False, False, "no-opening"),
    case("es:special_character:dieresis", {"let_frequency": 2}, "La pingüino habla con vergüenza.", "spa_Latn",
         True, True, "2-words"),
    case("es:special_character:dieresis", {"let_frequency": 1}, "La pingüino habla con vergüenza.", "spa_Latn",
         False, False, "exactly-1"),
    case("es:special_character:enie", {"let_frequency": 2}, "El niño come piña.", "spa_Latn", True, True, "2"),
    case("es:special_character:enie", {"let_frequency": 3}, "El NIÑO come piña.", "spa_Latn", False, False,
         "2-not-exactly-3"),
    case("es:special_character:tildes", {"num_words": 2, "relation": "al menos"}, "El árbol está aquí.",
         "spa_Latn", True, True, "3-at-least-2"),
    case("es:special_character:tildes", {"num_words": 2, "relation": "como máximo"}, "El árbol está aquí.",
         "spa_Latn", False, False, "3-not-at-most-2"),
    # ---- M-IFEval French ------------------------------------------------------------------------
    case("fr:change_case:french_capital", {}, "CECI EST UNE RÉPONSE ENTIÈREMENT EN FRANÇAIS ET EN MAJUSCULES.",
         "fra_Latn", True, True, "caps"),
    case("fr:change_case:french_capital", {}, "THIS IS AN ANSWER WRITTEN ENTIRELY IN ENGLISH CAPITALS.",
         "fra_Latn", False, False, "english"),
    case("fr:change_case:french_lowercase", {}, "ceci est une réponse entièrement en français et en minuscules.",
         "fra_Latn", True, True, "lower"),
    case("fr:change_case:french_lowercase", {}, "Ceci est une réponse en français.", "fra_Latn",
         False, False, "capital"),
    case("fr:detectable_content:informal_address", {}, "Je pense que tu as raison.", "fra_Latn", True, True, "tu"),
    case("fr:detectable_content:informal_address", {}, "Je t’aime bien.", "fra_Latn", True, True, "t-apostrophe"),
    case("fr:detectable_content:informal_address", {}, "Vous avez raison.", "fra_Latn", False, False, "vous"),
    case("fr:detectable_content:no_digits", {}, "Il y a trois pommes.", "fra_Latn", True, True, "words"),
    case("fr:detectable_content:no_digits", {}, "Il y a 3 pommes.", "fra_Latn", False, False, "digit"),
    case("fr:special_character:accents", {"word_to_accentuate": {"ecole": "école", "deja": "déjà"}},
         "Je suis déjà à l'école.", "fra_Latn", True, True, "accented"),
    case("fr:special_character:accents", {"word_to_accentuate": {"ecole": "école", "deja": "déjà"}},
         "Je suis deja a l'ecole.", "fra_Latn", False, False, "unaccented"),
    case("fr:special_character:ethel_or_cedilla", {"forbidden_char": "ç"}, "Le gamin joue.", "fra_Latn",
         True, True, "absent"),
    case("fr:special_character:ethel_or_cedilla", {"forbidden_char": "œ"}, "Un ŒUF.", "fra_Latn",
         False, False, "capital-ethel"),
    case("fr:special_character:no_accents", {}, "Je suis alle a l'ecole.", "fra_Latn", True, True, "none"),
    case("fr:special_character:no_accents", {}, "Je suis allé.", "fra_Latn", False, False, "accent"),
    # ---- M-IFEval Japanese ----------------------------------------------------------------------
    # 快晴。 and 大雨。 end in kanji (nouns); 吹きます。 ends in kana.
    case("ja:detectable_format:nominal_ending", {"count": 2}, "今日は快晴。明日は大雨。風が吹きます。",
         "jpn_Jpan", True, True, "2-of-2"),
    case("ja:detectable_format:nominal_ending", {"count": 3}, "今日は快晴。明日は大雨。風が吹きます。",
         "jpn_Jpan", False, False, "2-of-3"),
    case("ja:detectable_format:number_numbered_lists", {"num_items": 3}, "1. りんご\n2. みかん\n3. ぶどう",
         "jpn_Jpan", True, True, "3"),
    case("ja:detectable_format:number_numbered_lists", {"num_items": 2}, "1. りんご\n2. みかん\n3. ぶどう",
         "jpn_Jpan", False, True, "loose-drops-first-item"),
    case("ja:length_constraints:number_letters", {"num_letters": 5, "relation": "以上"}, "こんにちは",
         "jpn_Jpan", True, True, "5-at-least-5"),
    case("ja:length_constraints:number_letters", {"num_letters": 5, "relation": "未満"}, "こんにちは",
         "jpn_Jpan", False, False, "5-not-under-5"),
    case("ja:letters:furigana", {}, "漢字（かんじ）を書（か）きます。", "jpn_Jpan", True, True, "annotated"),
    case("ja:letters:furigana", {}, "漢字を書きます。", "jpn_Jpan", False, False, "bare"),
    case("ja:letters:hiragana_only", {}, "きょうは いい てんき です。", "jpn_Jpan", True, True, "hiragana"),
    case("ja:letters:hiragana_only", {}, "今日はいい天気", "jpn_Jpan", False, False, "kanji"),
    case("ja:letters:kanji", {"kanji_limit": 3, "relation": "以上"}, "漢字学習", "jpn_Jpan", True, True, "4"),
    case("ja:letters:kanji", {"kanji_limit": 3, "relation": "未満"}, "漢字学習", "jpn_Jpan", False, False, "4-not-3"),
    case("ja:letters:kansuuji", {}, "りんごが三つあります。", "jpn_Jpan", True, True, "kansuuji"),
    case("ja:letters:kansuuji", {}, "りんごが３つあります。", "jpn_Jpan", False, False, "fullwidth-digit"),
    case("ja:letters:katakana_only", {}, "コンニチハ、セカイ。ヴァイオリン", "jpn_Jpan", True, True, "katakana"),
    case("ja:letters:katakana_only", {}, "コンニチハ世界", "jpn_Jpan", False, False, "kanji"),
    case("ja:letters:no_hiragana", {}, "東京タワー。", "jpn_Jpan", True, True, "none"),
    case("ja:letters:no_hiragana", {}, "東京です", "jpn_Jpan", False, False, "some"),
    case("ja:letters:no_katakana", {}, "東京です。", "jpn_Jpan", True, True, "none"),
    case("ja:letters:no_katakana", {}, "東京タワー", "jpn_Jpan", False, False, "some"),
    case("ja:punctuation:no_period", {}, "こんにちは！元気？", "jpn_Jpan", True, True, "none"),
    case("ja:punctuation:no_period", {}, "こんにちは。", "jpn_Jpan", False, False, "kuten"),
    # The quoted 「走る」 is ignored; both sentences end in です.
    case("ja:startend:sentence_unified_end", {"ending": "です"}, "これはペンです。「走る」と言ったのです。",
         "jpn_Jpan", True, True, "desu"),
    case("ja:startend:sentence_unified_end", {"ending": "です"}, "これはペンです。それは本だ。", "jpn_Jpan",
         False, False, "da"),
]


@pytest.mark.slow
@pytest.mark.parametrize("iid,kwargs,response,language,strict,loose", CASES)
def test_golden_responses(iid, kwargs, response, language, strict, loose):
    [result] = evaluate_response([iid], [kwargs], response, language)
    assert result == InstructionResult(iid, strict, loose)


def _base_id(iid: str) -> str:
    return iid if iid in LANGUAGE_SPECIFIC_CHECKS or iid in COMMON_CHECKS else iid.split(":", 1)[1]


def test_golden_cases_cover_every_check_with_a_pass_and_a_failure():
    verdicts: dict[str, set[bool]] = {}
    for param in CASES:
        iid, _, _, _, strict, _ = param.values
        verdicts.setdefault(_base_id(iid), set()).add(strict)
    every_id = set(COMMON_CHECKS) | set(LANGUAGE_SPECIFIC_CHECKS)
    assert set(verdicts) == every_id
    # Each check is seen both passing and failing (constant checks would slip through otherwise).
    assert {iid for iid, seen in verdicts.items() if seen != {True, False}} == set()


def test_golden_cases_span_the_languages():
    languages = {param.values[3] for param in CASES}
    assert {"eng_Latn", "fra_Latn", "spa_Latn", "deu_Latn", "rus_Cyrl", "arb_Arab", "hin_Deva", "zho_Hans",
            "jpn_Jpan", "tha_Thai"} <= languages


# ---- counting by hand ------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("Hello world, don't stop", 5),  # IFEval's \w+ tokens: hello world don t stop
    ("我喜欢吃苹果和Apple iPhone 15", 10),  # 7 Han characters + Apple + iPhone + 15
    ("これは日本語の文章です。", 11),  # 11 kana/kanji, the 。 is no word
    ("สวัสดีครับ วันนี้อากาศดีมาก", 6),  # runs of 10 and 16 Thai code points: round(2.2) + round(3.6)
    ("ภาษาไทย", 2),  # 7 code points / 4.5 = 1.6 -> 2
    ("ก", 1),  # a Thai run is at least one word
    ("यह एक किताब है।", 4),  # vowel signs stay inside their words
    ("مرحباً بكم في العالم", 4),  # so do Arabic harakat
    ("", 0),
    ("*** --- !!!", 0),
])
def test_word_counts(text, expected):
    assert count_words(text) == expected


@pytest.mark.parametrize("text,language,expected", [
    ("今天天气很好。我们去公园吧！你觉得呢？", "zho_Hans", ["今天天气很好。", "我们去公园吧！", "你觉得呢？"]),
    ("日本語です。\n改行も文の区切りです", "jpn_Jpan", ["日本語です。", "改行も文の区切りです"]),
    ("यह एक वाक्य है। यह दूसरा है॥", "hin_Deva", ["यह एक वाक्य है।", "यह दूसरा है॥"]),
    ("هل أنت بخير؟ نعم.", "arb_Arab", ["هل أنت بخير؟", "نعم."]),
    ("Mr. Smith paid 3.5 dollars, e.g. cash. Visit google.com today!", "eng_Latn",
     ["Mr. Smith paid 3.5 dollars, e.g. cash.", "Visit google.com today!"]),
    ("J. R. R. Tolkien wrote books. The U.S. is big. Wait... Really?", "eng_Latn",
     ["J. R. R. Tolkien wrote books.", "The U.S. is big.", "Wait...", "Really?"]),
    ("Am 3. Oktober war es kalt. Gut.", "deu_Latn", ["Am 3. Oktober war es kalt.", "Gut."]),
    ("1. Apples\n2. Pears", "eng_Latn", ["1. Apples\n2. Pears"]),  # list markers end nothing
    ('He said "Stop." Then he left.', "eng_Latn", ['He said "Stop."', "Then he left."]),
    ("วันนี้อากาศดี ฉันจะไปตลาด\nแล้วกลับบ้าน", "tha_Thai", ["วันนี้อากาศดี", "ฉันจะไปตลาด", "แล้วกลับบ้าน"]),
    ("Это т.е. пример. Да.", "rus_Cyrl", ["Это т.е. пример.", "Да."]),
])
def test_sentence_splitting(text, language, expected):
    assert split_sentences(text, language) == expected
    assert count_sentences(text, language) == len(expected)


def test_english_newlines_do_not_end_sentences_but_cjk_ones_do():
    assert count_sentences("A title\n\nThe body has one sentence.", "eng_Latn") == 1
    assert count_sentences("标题\n\n正文只有一句。", "zho_Hans") == 2
    # The response's own script also counts: a Chinese answer to an English item.
    assert count_sentences("标题\n正文只有一句。", "eng_Latn") == 2


# ---- language detection ------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("text,expected", [
    ("Bonjour, je m'appelle Marie et j'habite à Paris depuis dix ans.", "fr"),
    ("私は東京に住んでいます。毎日電車で会社に行きます。", "ja"),
    ("我每天早上喝咖啡，然后去上班。", "zh"),
    ("أنا أحب القراءة كثيرا وأذهب إلى المكتبة كل يوم.", "ar"),
    ("Я живу в Москве и работаю программистом.", "ru"),
    ("12345 !!!", None),
    ("", None),
])
def test_detect_language(text, expected):
    assert detect_language(text) == expected


def test_undetectable_text_counts_as_the_requested_language():
    [r] = evaluate_response(["language:response_language"], [{"language": "de"}], "12345", "deu_Latn")
    assert (r.strict, r.loose) == (True, True)


@pytest.mark.parametrize("code", ["zh", "zh-TW", "zh_Hant", "cmn", "zho"])
def test_chinese_code_variants(code):
    [r] = evaluate_response(["language:response_language"], [{"language": code}], "我每天早上喝咖啡，然后去上班。",
                            "zho_Hans")
    assert r.strict


# ---- protocol --------------------------------------------------------------------------------------------

def test_loose_only_pass_when_the_first_line_is_a_preamble():
    response = 'Sure, here it is:\n"Rain falls softly on the old tin roof."'
    results = evaluate_response(["punctuation:no_comma", "startend:quotation", "keywords:existence"],
                                [{}, {}, {"keywords": ["rain"]}], response, "eng_Latn")
    assert [(r.strict, r.loose) for r in results] == [(False, True), (False, True), (True, True)]
    assert prompt_level(results) == (False, True)


def test_markdown_around_a_first_word_is_not_part_of_it():
    [r] = evaluate_response(["length_constraints:nth_paragraph_first_word"],
                            [{"num_paragraphs": 1, "nth_paragraph": 1, "first_word": "hello"}],
                            "**Hello** world.\nMore text here.", "eng_Latn")
    assert (r.strict, r.loose) == (True, True)


def test_loose_variants_also_drop_asterisks():
    [r] = evaluate_response(["detectable_format:number_bullet_lists"], [{"num_bullets": 0}],
                            "* a\n* b", "eng_Latn")
    assert (r.strict, r.loose) == (False, True)  # "* a" lines lose their stars


def test_none_valued_kwargs_are_ignored():
    kwargs = {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "however", "keyword": None,
              "relation": None, "language": None, "num_bullets": None}
    [r] = evaluate_response(["length_constraints:nth_paragraph_first_word"], [kwargs],
                            "First paragraph.\n\nHowever, the second one.", "eng_Latn")
    assert (r.strict, r.loose) == (True, True)
    # IFEval's own shape: every key of every instruction, null where unused.
    [r] = evaluate_response(["punctuation:no_comma"], [{"num_highlights": None, "relation": None}],
                            "No commas.", "eng_Latn")
    assert r.strict
    [r] = evaluate_response(["punctuation:no_comma"], [None], "No commas.", "eng_Latn")
    assert r.strict


def test_empty_response_follows_nothing():
    results = evaluate_response(["punctuation:no_comma", "ja:letters:kansuuji", "startend:quotation"],
                                [{}, {}, {}], "  \n ", "jpn_Jpan")
    assert [(r.strict, r.loose) for r in results] == [(False, False)] * 3
    assert prompt_level(results) == (False, False)


def test_prompt_level():
    ok, bad = InstructionResult("a", True, True), InstructionResult("b", False, True)
    assert prompt_level([ok, bad]) == (False, True)
    assert prompt_level([ok]) == (True, True)
    assert prompt_level([]) == (True, True)


def test_repeat_prompt_falls_back_to_the_prompt():
    [r] = evaluate_response(["combination:repeat_prompt"], [{}], "écris un poème. Voici le poème.",
                            "fra_Latn", prompt="Écris un poème.")
    assert r.strict


@pytest.mark.parametrize("iid", ["en:keywords:existence", "pt:keywords:existence", "ja:letters:furigana",
                                 "es:special_character:enie", "punctuation:no_comma"])
def test_supported(iid):
    assert supported(iid)


@pytest.mark.parametrize("iid", ["keywords:nonexistent", "letters:furigana", "es:letters:furigana",
                                 "fr:special_character:enie", "xx:yy", "", "keywords"])
def test_unknown_ids(iid):
    assert not supported(iid)
    with pytest.raises(KeyError, match="unknown instruction id"):
        evaluate_response([iid], [{}], "text", "eng_Latn")


@pytest.mark.parametrize("iid,kwargs", [
    ("keywords:existence", {}),
    ("length_constraints:number_words", {"num_words": 5, "relation": "roughly"}),
    ("length_constraints:number_words", {"num_words": "many", "relation": "at least"}),
    ("keywords:forbidden_words", {"forbidden_words": "cat"}),
    ("fr:special_character:accents", {"word_to_accentuate": ["ecole"]}),
    ("combination:repeat_prompt", {}),
])
def test_bad_kwargs_raise_value_error_even_for_empty_responses(iid, kwargs):
    with pytest.raises(ValueError):
        evaluate_response([iid], [kwargs], "", "eng_Latn")


def test_mismatched_lists_raise():
    with pytest.raises(ValueError):
        evaluate_response(["punctuation:no_comma"], [], "text", "eng_Latn")


# ---- the real M-IFEval files (not in the repository) ---------------------------------------------------

def _m_ifeval_items():
    files = sorted(M_IFEVAL_DATA.glob("*_input_data.jsonl")) if M_IFEVAL_DATA.is_dir() else []
    if not files:
        pytest.skip(f"M-IFEval data not found at {M_IFEVAL_DATA}")
    for path in files:
        language = LANGUAGE_OF_FILE.get(path.name.split("_", 1)[0], "eng_Latn")
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield language, json.loads(line)


def test_every_m_ifeval_instruction_id_is_supported():
    ids = {iid for _, item in _m_ifeval_items() for iid in item["instruction_id_list"]}
    assert ids
    assert sorted(iid for iid in ids if not supported(iid)) == []


@pytest.mark.slow
def test_every_m_ifeval_item_evaluates_with_a_dummy_response():
    count = 0
    for language, item in _m_ifeval_items():
        for response in ("This is a dummy response, with one sentence.", "これはダミーの応答です。"):
            results = evaluate_response(item["instruction_id_list"], item["kwargs"], response, language,
                                        item.get("prompt", ""))
            assert [r.instruction_id for r in results] == item["instruction_id_list"]
            assert all(isinstance(r.strict, bool) and isinstance(r.loose, bool) for r in results)
            assert all(r.loose or not r.strict for r in results)
        count += 1
    assert count > 0


# ---- property: no input text makes a check raise ---------------------------------------------------------

VALID_KWARGS: dict[str, dict] = {
    "keywords:existence": {"keywords": ["data", "北京"]},
    "keywords:frequency": {"keyword": "data", "frequency": 2, "relation": "at least"},
    "keywords:forbidden_words": {"forbidden_words": ["cat", "แมว", "C++"]},
    "keywords:letter_frequency": {"letter": "a", "let_frequency": 3, "let_relation": "less than"},
    "language:response_language": {"language": "fr"},
    "length_constraints:number_sentences": {"num_sentences": 3, "relation": "at least"},
    "length_constraints:number_paragraphs": {"num_paragraphs": 2},
    "length_constraints:number_words": {"num_words": 10, "relation": "less than"},
    "length_constraints:nth_paragraph_first_word": {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "so"},
    "detectable_content:number_placeholders": {"num_placeholders": 1},
    "detectable_content:postscript": {"postscript_marker": "P.S."},
    "detectable_format:number_bullet_lists": {"num_bullets": 2},
    "detectable_format:constrained_response": {},
    "detectable_format:number_highlighted_sections": {"num_highlights": 1},
    "detectable_format:multiple_sections": {"section_spliter": "Section", "num_sections": 2},
    "detectable_format:json_format": {},
    "detectable_format:title": {},
    "combination:two_responses": {},
    "combination:repeat_prompt": {"prompt_to_repeat": "Say hi (twice)."},
    "startend:end_checker": {"end_phrase": "Any other questions?"},
    "change_case:capital_word_frequency": {"capital_frequency": 2, "capital_relation": "at least"},
    "change_case:english_capital": {},
    "change_case:english_lowercase": {},
    "punctuation:no_comma": {},
    "startend:quotation": {},
    "es:change_case:spanish_capital": {},
    "es:change_case:spanish_lowercase": {},
    "es:punctuation:exclamation_marks": {},
    "es:punctuation:question_marks": {},
    "es:special_character:dieresis": {"let_frequency": 1},
    "es:special_character:enie": {"let_frequency": 1},
    "es:special_character:tildes": {"num_words": 2, "relation": "como máximo"},
    "fr:change_case:french_capital": {},
    "fr:change_case:french_lowercase": {},
    "fr:detectable_content:informal_address": {},
    "fr:detectable_content:no_digits": {},
    "fr:special_character:accents": {"word_to_accentuate": {"ecole": "école"}},
    "fr:special_character:ethel_or_cedilla": {"forbidden_char": "ç"},
    "fr:special_character:no_accents": {},
    "ja:detectable_format:nominal_ending": {"count": 1},
    "ja:detectable_format:number_numbered_lists": {"num_items": 2},
    "ja:length_constraints:number_letters": {"num_letters": 10, "relation": "未満"},
    "ja:letters:furigana": {},
    "ja:letters:hiragana_only": {},
    "ja:letters:kanji": {"kanji_limit": 3, "relation": "以上"},
    "ja:letters:kansuuji": {},
    "ja:letters:katakana_only": {},
    "ja:letters:no_hiragana": {},
    "ja:letters:no_katakana": {},
    "ja:punctuation:no_period": {},
    "ja:startend:sentence_unified_end": {"ending": "です"},
}
# Every check, and every common check also under each M-IFEval dialect.
PROPERTY_IDS = sorted(VALID_KWARGS) + [f"{d}:{iid}" for d in ("en", "es", "fr", "ja") for iid in COMMON_CHECKS]
LANGUAGES = ["eng_Latn", "fra_Latn", "spa_Latn", "deu_Latn", "rus_Cyrl", "arb_Arab", "hin_Deva", "zho_Hans",
             "jpn_Jpan", "tha_Thai"]
# Arbitrary text, biased towards the characters the checks look at.
TEXT = st.text(alphabet=st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(list("*-#<>[]{}()\"'«»「」『』《》・。、，！？!?.,\n ¿¡ñü第章P.S：:0123")),
), max_size=200)


def test_valid_kwargs_cover_every_check():
    assert set(VALID_KWARGS) == set(COMMON_CHECKS) | set(LANGUAGE_SPECIFIC_CHECKS)


@pytest.mark.slow
@pytest.mark.parametrize("iid", PROPERTY_IDS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT, language=st.sampled_from(LANGUAGES))
def test_checks_never_raise_on_arbitrary_text(iid, text, language):
    [result] = evaluate_response([iid], [VALID_KWARGS[_base_id(iid)]], text, language, prompt="Say hi (twice).")
    assert isinstance(result.strict, bool) and isinstance(result.loose, bool)
    assert result.loose or not result.strict
