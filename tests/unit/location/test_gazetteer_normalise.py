"""The gazetteer's pure parts: the lookup key of a name, the query's house number, the score."""

from __future__ import annotations

import pytest

from gateway.location.gazetteer import normalise, parse_query, score


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Avenue Mohammed V", "avenue mohammed 5"),
        ("  AV.  Mohammed   5 ", "avenue mohammed 5"),
        ("Ave Mohammed V", "avenue mohammed 5"),
        ("Bd. Hassan II", "boulevard hassan 2"),
        ("Blvd Hassan 2", "boulevard hassan 2"),
        ("R. Patrice Lumumba", "rue patrice lumumba"),
        ("Pl. Pietri", "place pietri"),
        ("Quartier Riad", "hay riad"),
        ("Hay Riad", "hay riad"),
    ],
)
def test_street_words_and_roman_numerals_are_unified(text: str, key: str) -> None:
    assert normalise(text) == key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Mausolée", "mausolee"),
        ("Hôpital Ibn Sina", "hopital ibn sina"),
        ("SALÉ", "sale"),
        ("Straße", "strasse"),
    ],
)
def test_case_and_accents_are_dropped(text: str, key: str) -> None:
    assert normalise(text) == key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Bab el-Had", "bab el had"),
        ("L'Océan", "l ocean"),
        ("Kasbah des Oudayas", "kasbah des oudayas"),  # articles are kept
        ("Rue d'Agadir, (Rabat)!", "rue d agadir rabat"),
        ("Gare de Rabat-Ville", "gare de rabat ville"),
    ],
)
def test_punctuation_becomes_single_spaces_and_articles_stay(text: str, key: str) -> None:
    assert normalise(text) == key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("شَارِعُ مُحَمَّدٍ الخَامِس", "شارع محمد الخامس"),  # tashkeel
        ("شـــارع", "شارع"),  # tatweel
        ("باب الأحد", "باب الاحد"),  # alef with hamza above
        ("إدريس", "ادريس"),  # alef with hamza below
        ("آسفي", "اسفي"),  # alef with madda
        ("ٱلرباط", "الرباط"),  # alef wasla
        ("المدينة", "المدينه"),  # teh marbuta
        ("مصطفى", "مصطفي"),  # alef maksura
        ("مؤسسة", "موسسه"),  # waw with hamza
        ("زنقة ١٢", "زنقه 12"),  # Arabic-Indic digits
    ],
)
def test_arabic_marks_and_letter_forms_are_unified(text: str, key: str) -> None:
    assert normalise(text) == key


def test_a_name_and_its_spelling_variants_share_one_key() -> None:
    variants = ["Avenue Mohammed V", "av mohammed 5", "AV. MOHAMMED V", "avenue  Mohammed-V"]
    assert {normalise(text) for text in variants} == {"avenue mohammed 5"}


@pytest.mark.parametrize(
    ("query", "tokens", "house"),
    [
        ("12 avenue Mohammed V", ["avenue", "mohammed", "5"], "12"),
        ("12, av. Mohammed V", ["avenue", "mohammed", "5"], "12"),
        ("n° 3 bis rue Patrice Lumumba", ["rue", "patrice", "lumumba"], "3 bis"),
        ("7b Bd Hassan II", ["boulevard", "hassan", "2"], "7b"),
        ("١٢ شارع محمد الخامس", ["شارع", "محمد", "الخامس"], "12"),
        ("avenue Mohammed V", ["avenue", "mohammed", "5"], None),
        ("16 Novembre", ["16", "novembre"], None),  # no street type: the number is the name
        ("12", ["12"], None),
    ],
)
def test_a_leading_house_number_before_a_street_type_is_set_apart(
    query: str, tokens: list[str], house: str | None
) -> None:
    assert parse_query(query) == (tokens, house)


def test_an_exact_key_scores_highest() -> None:
    assert score(["avenue", "mohammed", "5"], "avenue mohammed 5") == 1.0


def test_whole_words_beat_prefixes_which_beat_inner_matches() -> None:
    key = "avenue mohammed 5"
    whole = score(["mohammed"], key)
    prefix = score(["moham"], key)
    inner = score(["hammed"], key)
    assert whole is not None and prefix is not None and inner is not None
    assert 1.0 > whole > prefix > inner > 0


def test_the_weakest_token_sets_the_tier() -> None:
    both_whole = score(["avenue", "mohammed"], "avenue mohammed 5")
    one_prefix = score(["avenue", "moh"], "avenue mohammed 5")
    assert both_whole is not None and one_prefix is not None
    assert both_whole > one_prefix


def test_covering_more_of_the_key_scores_higher_in_a_tier() -> None:
    short = score(["hassan"], "tour hassan")
    long = score(["hassan"], "lycee moulay hassan de rabat")
    assert short is not None and long is not None
    assert short > long


def test_a_missing_token_excludes_the_place() -> None:
    assert score(["avenue", "fes"], "avenue mohammed 5") is None
    assert score([], "avenue mohammed 5") is None


def test_an_arabic_word_matches_without_its_article() -> None:
    assert score(["خامس"], "شارع محمد الخامس") == score(["الخامس"], "شارع محمد الخامس")
