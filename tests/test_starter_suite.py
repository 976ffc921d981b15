"""The starter suite's files: complete, well-formed, in enough languages and scripts."""

from __future__ import annotations

import collections

from evaluator.cards import all_cards, get_suite
from evaluator.datasets import data_folder, load_items
from evaluator.languages import language_table


def test_starter_suite_has_ten_languages_in_five_scripts_and_twenty_items_each():
    suite = get_suite("starter")
    table = language_table()
    for task in suite.tasks:
        card = all_cards()[task]
        assert card.source.local, "the starter suite is in this repository"
        langs = set(card.languages)
        assert len(langs) >= 10
        assert len({table[l].script for l in langs}) >= 5
        items = load_items(card, data_folder(card, [], allow_hub=False)[0])
        per_lang = collections.Counter(i.language for i in items)
        assert set(per_lang) == langs and min(per_lang.values()) >= 20, task


def test_cultural_categories_are_present_in_every_language():
    card = all_cards()["polyglot_mc"]
    items = load_items(card, data_folder(card, [], allow_hub=False)[0])
    by_lang = collections.defaultdict(collections.Counter)
    for it in items:
        by_lang[it.language][it.category] += 1
    for lang, cats in by_lang.items():
        for cat in ("idiom", "pun", "holiday", "concept"):
            assert cats[cat] >= 4, (lang, cat)


def test_multiple_choice_gold_is_a_valid_index_and_choices_are_distinct():
    card = all_cards()["polyglot_mc"]
    for it in load_items(card, data_folder(card, [], allow_hub=False)[0]):
        assert 0 <= it.gold < len(it.choices) == 4
        assert len(set(it.choices)) == 4, it.item_id


def test_item_ids_are_unique_per_task_and_language():
    for task in get_suite("starter").tasks:
        card = all_cards()[task]
        items = load_items(card, data_folder(card, [], allow_hub=False)[0])
        keys = [(i.language, i.item_id) for i in items]
        assert len(keys) == len(set(keys))
