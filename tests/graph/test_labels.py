"""Key phrases and group labels: whole phrases, as written, telling groups apart."""

from __future__ import annotations

import pytest

from graph.analytics.labels import distinguishing_terms
from graph.analytics.phrases import STOP_WORDS, key_phrases, lead, node_texts, runs
from graph.model import Initiative, Person, WisdomEntry


def test_runs_break_at_punctuation_and_keep_words_as_written() -> None:
    text = (
        "Repair cafés, renewable energy co-ops: women's leadership (COVID-19) and 3 schools/clubs"
    )
    assert runs(text) == [
        ["Repair", "cafés"],
        ["renewable", "energy", "co-ops"],
        ["women's", "leadership"],
        ["COVID-19"],
        ["and"],
        ["schools"],
        ["clubs"],
    ]


def test_a_description_is_cut_at_a_clause_end_never_inside_a_word() -> None:
    text = "We run community gardens. " * 30 + "Then a last sentence about mental health first aid."
    cut = lead(text, 100)
    assert cut.endswith("gardens. ") and len(cut) <= 100
    assert lead("one long clause without an end " * 30, 50) == ""
    assert lead("short", 50) == "short"


def phrases_of(*texts: str) -> set[str]:
    found = key_phrases({f"n{i}": [t] for i, t in enumerate(texts)})
    return {found.written[k] for keys in found.of.values() for k in keys}


def test_fragments_of_longer_phrases_are_not_phrases() -> None:
    found = phrases_of(
        "mental health first aid", "Mental health first aid for volunteers",
        "mental health first aid", "mental health", "mental health in schools",
        "early childhood development", "early childhood development",
        "intercultural dinners between old and new residents",
        "intercultural dinners between old and new residents",
    )  # fmt: skip
    assert {"mental health first aid", "mental health", "early childhood development",
            "intercultural dinners"} <= found  # fmt: skip
    for fragment in ("health first", "first aid", "early", "childhood development",
                     "early childhood", "dinners between old", "old"):  # fmt: skip
        assert fragment not in found


def test_stop_and_vague_words_never_stand_alone_or_lead_a_phrase() -> None:
    found = phrases_of(
        "We find ways to improve every community garden, including the new ones",
        "find and improve every community garden including schools",
        "mentoring young people", "mentoring young people",
    )  # fmt: skip
    for phrase in found:
        words = phrase.casefold().split()
        assert words[0] not in STOP_WORDS and words[-1] not in STOP_WORDS, phrase
    assert not {"find", "improve", "every", "including", "ways", "new", "people"} & found
    assert "mentoring young people" in found and "community garden" in found


def test_phrases_keep_case_and_accents_as_most_often_written() -> None:
    found = phrases_of(
        "Lessons from Addis Ababa", "peacebuilding in Addis Ababa", "a repair café",
        "our Repair café", "repair café nights", "the COVID-19 response", "life after COVID-19",
        "COVID-19",
    )  # fmt: skip
    assert {"Addis Ababa", "repair café", "COVID-19"} <= found
    assert not {"addis ababa", "Repair café", "repair caf", "covid"} & found


def test_a_single_word_that_only_qualifies_others_is_not_a_phrase() -> None:
    found = phrases_of("free software", "free lunches", "free legal advice", "designed locally",
                       "software", "lunches")  # fmt: skip
    assert "free" not in found and "designed" not in found
    assert {"software", "free software", "lunches"} <= found


def test_node_texts_are_the_short_fields_that_say_what_a_node_is_about() -> None:
    person = Person(id="person:x", name="X", interests=["restorative circles"],
                    skills=["event planning"])  # fmt: skip
    assert node_texts(person) == ["restorative circles"]
    initiative = Initiative(id="initiative:x", name="Safe Streets", types=["programme"],
                            description="Mentoring. " * 100)  # fmt: skip
    texts = node_texts(initiative)
    assert texts[:2] == ["Safe Streets", "programme"] and len(texts[2]) <= 600
    assert node_texts(WisdomEntry(id="wisdom_entry:x", name="Circles", body="Long.")) == ["Circles"]


def labels_of(groups: dict[str, list[list[str]]], k: int = 3) -> list[list[str]]:
    """Labels of groups whose members' texts are given (one list of texts per member)."""
    texts = {f"{g}{i}": member for g, members in groups.items()
             for i, member in enumerate(members)}  # fmt: skip
    phrases = key_phrases(texts)
    ids = [[f"{g}{i}" for i in range(len(members))] for g, members in groups.items()]
    return [[t for t, _ in label] for label in distinguishing_terms(ids, phrases, k=k)]


def test_a_group_is_labelled_by_what_sets_it_apart() -> None:
    circles, coding = labels_of({
        "a": [["restorative circles", "youth"], ["restorative circles", "youth"],
              ["restorative circles", "youth"]],
        "b": [["coding clubs", "youth"], ["coding clubs", "youth"], ["coding clubs"]],
    })  # fmt: skip
    assert circles[0] == "restorative circles" and coding[0] == "coding clubs"
    assert "youth" not in circles + coding  # shared by both: not distinguishing


def test_a_label_never_repeats_a_word() -> None:
    (label, _) = labels_of({
        "a": [["open-source software", "open source", "community gardens", "gardens"]] * 4,
        "b": [["peace education"]] * 4,
    }, k=5)  # fmt: skip
    stems = [w.rstrip("s") for phrase in label for w in phrase.replace("-", " ").split()]
    assert len(stems) == len(set(stems)), label


@pytest.mark.parametrize("size", [2, 3])
def test_groups_on_the_same_theme_still_get_different_labels(size: int) -> None:
    theme = [["mindfulness in classrooms", "service learning", "literacy programmes"]] * 4
    labels = labels_of({str(g): theme for g in range(size)} | {"x": [["prison education"]] * 4})
    shown = [", ".join(label) for label in labels]
    assert len(set(shown)) == len(shown), shown
    assert len({label[0] for label in labels if label}) == len([x for x in labels if x])
