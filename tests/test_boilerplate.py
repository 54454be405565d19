"""Boilerplate evidence: shipped rules, user rules, repeated lines across a batch."""

from __future__ import annotations

import pickle

import pytest

from archiver.ingest.boilerplate import (
    MAX_KEY_CHARS,
    BoilerplateModel,
    line_counts,
    line_keys,
    normalise_line,
    shipped_rules,
)


def test_normalise_line_folds_case_space_and_digits() -> None:
    assert normalise_line("  © 2024  Metro\u00a0Daily ") == normalise_line("© 2019 metro daily")
    assert normalise_line("ＡＢＣ") == "abc"


def test_line_counts_counts_inputs_not_lines() -> None:
    texts = ["Menu\nMenu\nStory one.", "Menu\nStory two.", "Menu\nStory two."]
    counts = line_counts(texts)
    assert counts["menu"] == 2  # the third input is identical to the second: counted once
    assert counts["story one."] == 1


@pytest.mark.parametrize(
    "line",
    [
        "Skip to main content",
        "Advertisement",
        "Story continues below advertisement",
        "Data & News supplied by www.cloudquote.io",
        "Stock quotes supplied by Barchart",
        "Quotes delayed at least 20 minutes.",
        "By accessing this page, you agree to the following",
        "Privacy Policy and Terms and Conditions.",
        "© 2024 Metro Daily. All rights reserved.",
        "We use cookies to improve your experience. By continuing you accept our Cookie Policy.",
        "Read more: Officials weigh new rules",
        "RELATED: SENATE PASSES BILL",
        "Sign up for our newsletter",
        "Share this article: Facebook Twitter Email",
        "Lire aussi : Les critiques de la CNIL",
    ],
)
def test_shipped_rules_match_chrome(line: str) -> None:
    assert BoilerplateModel.empty().is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "Secretary of State Antony Blinken said Thursday that the U.S. has real concerns.",
        "Related to the budget, the minister said the cuts would be reversed next year.",
        "Copyright law was at the heart of the case, the judge said.",
        "The company said its newsletter business grew by a third last year.",
        "Share prices fell sharply on Monday after the announcement.",
    ],
)
def test_shipped_rules_spare_prose(line: str) -> None:
    assert not BoilerplateModel.empty().is_boilerplate(line)


def test_build_with_user_rules_known_counts_and_pickle() -> None:
    texts = ["Menu\nA story.", "Menu\nAnother story.", "Menu\nThird story."]
    model = BoilerplateModel.build(texts, extra_rules=[r"^sponsored by acme$"], min_repeat=3)
    assert model.is_boilerplate("Menu") and model.is_boilerplate("Sponsored by ACME")
    assert not model.is_boilerplate("A story.")
    known = BoilerplateModel.build(["Footer line\nX."], known={"footer line": 5})
    assert known.is_repeated("FOOTER   line")
    clone = pickle.loads(pickle.dumps(model))
    assert clone.is_boilerplate("Sponsored by ACME") and clone.repeated == model.repeated
    assert len(model.rules) == len(shipped_rules()) + 1


def test_bad_user_rule_is_reported() -> None:
    with pytest.raises(ValueError, match="bad boilerplate rule"):
        BoilerplateModel.build([], extra_rules=["(unclosed"])


def test_end_markers() -> None:
    from archiver.ingest.boilerplate import is_end_marker

    for line in (
        "3 Comments",
        "Comments (74)",
        "Leave a Reply",
        "Share this:",
        "Related",
        "Recommended for you",
        "Sur le même sujet",
        "Kommentare lesen (1 Beitrag)",
    ):
        assert is_end_marker(line), line
    for line in ("The comments were harsh.", "Related to the case, the judge said", "Latest"):
        assert not is_end_marker(line), line
    model = BoilerplateModel.empty()
    assert model.is_boilerplate("Leave a Reply")  # end markers are boilerplate too


@pytest.mark.parametrize(
    "line",
    [
        "Subscribe to continue reading",
        "You have reached your limit of free articles this month.",
        "Already a subscriber? Sign In",
        "Log out Sign in",
        "Sign in / Sign up",
        "Déjà abonné ? Connectez-vous",
        "Il vous reste 80 % de cet article à lire.",
        "Dieser Artikel ist nur für Abonnenten verfügbar",
        "¿Ya eres suscriptor? Inicia sesión",
        "Conteúdo exclusivo para assinantes",
    ],
)
def test_paywall_and_login_lines_are_boilerplate(line: str) -> None:
    assert BoilerplateModel.empty().is_boilerplate(line.lstrip("¿"))


def test_rule_dispatch_matches_exactly_like_plain_rules() -> None:
    from archiver.ingest.boilerplate import DIGIT, first_chars, rule_guard

    assert first_chars(r"^(skip|jump) (to|navigation)\b") == frozenset("sj")
    assert first_chars(r"^(there (are|is) )?comments$") == frozenset("tc")  # an optional start
    assert first_chars(r"^(a|b)*c") == frozenset("abc")
    assert first_chars(r"^\d+ comments$") == frozenset({DIGIT})
    assert first_chars(r"^\(ad\)$") == frozenset("(")
    assert first_chars(r"^share|tweet") == frozenset("st")  # top-level alternatives
    assert first_chars(r"^(a)?") is None  # may match an empty line
    assert first_chars(r"^(a){0,2}b") is None
    assert first_chars(r"^\w+") is None
    assert first_chars(r"^\d?x") is None
    assert first_chars(r"^(a|)b") is None
    assert rule_guard(r"^.{0,200}\bcookies?\b.{0,200}policy$") == "cookie"
    assert rule_guard(r"^(share|tweet)$") is None
    model = BoilerplateModel.build([], extra_rules=[r"^ßonder$", r".*ACME corp", r"^\(ad\)$"])
    lines = [
        "Skip to main content", "skip navigation", "Share", "share prices fell", "ẞONDER",
        "Visit ACME Corp today", "(ad)", "Cookie Policy", "We use cookies: accept them",
        "© 2024 Metro Daily. All rights reserved.", "12 Comments", "Ünlü", "", "Related",
        "Privacy Policy", "Paragraph about cookies and the policy of the council.",
    ]  # fmt: skip
    for line in lines:
        expected = any(rule.match(line.strip()) for rule in model.rules)
        assert model.matches_rule(line) == expected, line
    clone = pickle.loads(pickle.dumps(model))
    assert [clone.matches_rule(x) for x in lines] == [model.matches_rule(x) for x in lines]


def test_rule_dispatch_with_digits_optional_starts_and_alternatives() -> None:
    """Rules starting with \\d, an optional group, an escaped mark or top-level alternatives are
    dispatched by first character and still match exactly like the plain rules."""
    extra = [
        r"^(there (are|is) )?(\d+\s*)?(comments?|replies)$",
        r"^\d+\s*shares?$",
        r"^(©|\(c\)|copyright)\s*\d{4}.{0,40}$",
        r"^share|tweet",
        r"^(in case you )?missed it\??$",
        r"^7 days$",
    ]
    model = BoilerplateModel.build([], extra_rules=extra)
    lines = [
        "There are 12 comments", "12 comments", "\u0663\u0664 comments", "\u0663 shares",
        "comments", "Replies", "7 days", "7 shares", "8 days", "(c) 2024 Metro", "© 2024 x",
        "Copyright 2024 Metro", "Tweet this", "share", "Missed it?", "In case you missed it",
        "in case you", "there are", "", "x", "٣", "12", "Thereare 12 comments",
    ]  # fmt: skip
    for line in lines:
        expected = any(rule.match(line.strip()) for rule in model.rules)
        assert model.matches_rule(line) == expected, line
    assert model.matches_rule("\u0663\u0664 comments")  # an Arabic-Indic number: \\d matches it
    assert model.matches_rule("Tweet this")


def test_ascii_normalise_line_equals_the_unicode_definition() -> None:
    import re
    import unicodedata

    def reference(line: str) -> str:
        text = unicodedata.normalize("NFKC", line)
        return re.sub(r"\d+", "0", " ".join(text.casefold().split()))

    lines = [
        "  Page 12 of 300\t\tNEXT ",
        "a\x1cb\x1fc 00 007 x0y1",
        "1000000 readers",
        "",
        "   ",
        "Caf\u00e9 \u0663\u0664 \u2460 \uff21",
        "ALL 4 ONE\x0b\x0cdone\r",
    ]
    for line in lines:
        assert normalise_line(line) == reference(line), line


def test_combined_rules_match_exactly_like_each_rule() -> None:
    from archiver.ingest.boilerplate import combine_rules, compile_rules

    rules = compile_rules([r"^(a)\1$", r"^(?P<x>b)(?P=x)$", r"^(?i:c)c$", r"^share$", r"^d+$"])
    merged = combine_rules(rules)
    assert len(merged) == 4  # the back-referencing and flagged rules stay apart
    for line in ["aa", "ab", "bb", "cc", "Share", "ddd", "d", "share it", ""]:
        expected = any(rule.match(line) for rule in rules)
        assert any(rule.match(line) for rule in merged) == expected, line


def test_line_keys_equal_normalise_line_of_every_line() -> None:
    """The batched ASCII path gives each line the key normalise_line gives it."""
    import random

    rnd = random.Random(7)
    chars = [chr(c) for c in range(128)] + list("aB0190 ") * 6 + ["é", "ß", "İ", "١", "\u2028"]
    for _ in range(2000):
        text = "".join(rnd.choice(chars) for _ in range(rnd.randint(0, 60)))
        expected = {
            normalise_line(line)
            for line in text.splitlines()
            if line.strip() and len(line) <= MAX_KEY_CHARS
        } - {""}
        assert line_keys(text) == expected, repr(text)
    long_line = "Word " * 70
    text = f"  Share  THIS 2024\t\n{long_line}\nCafé 12 345\n   \n"
    assert line_keys(text) == {"share this 0", "café 0 0"}
