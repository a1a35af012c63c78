"""The filter's text logic (heartlink/lib/content.py): the shared table of cases, the file's
format, and the compiled pattern against the plain reading of the list."""
import random
import re
import string

import pytest

from heartlink.lib import content

from filter_cases import BLOCKED_TERMS, CASES

TERMS, BAD_LINES = content.BlockedTerms.parse(BLOCKED_TERMS.splitlines())


@pytest.mark.parametrize(("text", "blocked", "link"), CASES)
def test_a_text_is_read_through_its_disguises(text, blocked, link):
    assert TERMS.matches(text) is blocked
    assert content.has_link(text) is link


def test_a_regex_that_does_not_compile_is_reported_with_its_line_and_skipped():
    assert [(bad.number, bad.line) for bad in BAD_LINES] == [(9, "/broken(regex/")]
    assert TERMS.size == 7  # 5 terms, 2 regexes; the comment and the broken line are not counted


def test_an_empty_list_blocks_nothing():
    empty, bad = content.BlockedTerms.parse(["", "# nothing yet", "   "])
    assert not bad and empty.size == 0
    assert not empty.matches("bad") and not content.NOTHING_BLOCKED.matches("bad")


def test_normalising_folds_width_case_and_accents_and_drops_what_draws_nothing():
    assert content.normalise("ＢÁ\u200bD\ufe0f") == "bad"
    assert content.normalise("Straße") == "strasse"
    assert content.normalise("が") == "が"  # the kana voicing mark is part of the letter


def test_the_trie_pattern_finds_what_a_plain_loop_over_the_terms_finds():
    chosen = random.Random(7)
    words = {"".join(chosen.choice("abcd") for _ in range(chosen.randint(1, 5))) for _ in range(300)}
    terms, _bad = content.BlockedTerms.parse(sorted(words))
    for _ in range(500):
        text = " ".join("".join(chosen.choice("abcd") for _ in range(chosen.randint(1, 6)))
                        for _ in range(chosen.randint(1, 4)))
        plain = any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) for word in words)
        assert terms.matches(text) is plain, text


def test_a_thousand_terms_compile_into_one_pattern():
    chosen = random.Random(3)
    words = ["".join(chosen.choice(string.ascii_lowercase) for _ in range(chosen.randint(4, 10))) for _ in range(1000)]
    terms, _bad = content.BlockedTerms.parse(words)
    assert terms.matches(f"so {words[500].upper()} it is") and not terms.matches("0123456789 " * 30)


def test_a_regex_written_with_capitals_still_matches_the_lower_case_text():
    terms, bad = content.BlockedTerms.parse(["/Hot\\s*Singles/", "/(ha)\\1/", "/x[yz]+/"])
    assert not bad
    assert terms.matches("HOT singles near you") and terms.matches("ＨＡＨＡ") and terms.matches("xzy")
    assert not terms.matches("hot dog") and not terms.matches("ha ha")
