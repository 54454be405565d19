"""Tests for archiver.ingest.entities: automatic entity tags and the alias table."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml

from archiver.ingest.entities import canonical_tag, entity_tags
from archiver.ingest.gazetteer import load_gazetteer

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
RAW = SHARED / "fixtures" / "raw" / "000_f939df497fa72000.txt"
EXPECTED = SHARED / "fixtures" / "expected" / "000_f939df497fa72000.json"
SEED_META = {
    "source": "Fox News",
    "credits": ["The Associated Press"],
    "authors": ["Chris Pandolfo", "Timothy H.J. Nerozzi"],
}
JUNK = {"Barchart", "Privacy Policy", "Terms and Conditions", "Data", "News", "Stock", "Quotes"}


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared fixtures live beside the repository)")
    return path


def _seed_parts() -> tuple[str, str, list[str]]:
    """Title, summary and the 9 clean body paragraphs of the seed page dump."""
    blocks = [b.strip() for b in _need(RAW).read_text(encoding="utf-8").split("\n\n") if b.strip()]
    title, summary = blocks[1], blocks[2]
    end = next(i for i, b in enumerate(blocks) if "contributed to this report" in b)
    body = [b for b in blocks[3:end] if not b.isupper()]
    return title, summary, body


@pytest.fixture(scope="module")
def expected() -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads(_need(EXPECTED).read_text(encoding="utf-8"))
    return data


def test_seed_expectations_hold(expected: dict[str, list[str]]) -> None:
    title, summary, body = _seed_parts()
    assert len(body) == 9
    tags = entity_tags(title, summary, body, **SEED_META)  # type: ignore[arg-type]
    assert len(tags) <= 8
    for name in expected["tags_must_include"] + expected["tags_should_include"]:
        assert name in tags, (name, tags)
    for name in expected["tags_must_not_include"]:
        assert name not in tags, (name, tags)
    allowed = set(
        expected["tags_must_include"]
        + expected["tags_should_include"]
        + expected["tags_may_include"]
    )
    assert set(tags) - allowed <= {"Moscow"}


def test_seed_golden_ranking() -> None:
    title, summary, body = _seed_parts()
    tags = entity_tags(title, summary, body, max_tags=20, **SEED_META)  # type: ignore[arg-type]
    assert tags == (
        "North Korea",
        "Russia",
        "South Korea",
        "Antony Blinken",
        "United States",
        "Ukraine",
        "Kim Jong Un",
        "Moscow",
        "Park Jin",
        "United Nations Security Council",
        "Unification Ministry",
        "Kim Yung-ho",
        "Yonhap News Agency",
    )


@pytest.mark.parametrize("with_meta", [True, False])
def test_raw_dump_with_footers_gives_no_junk(
    expected: dict[str, list[str]], with_meta: bool
) -> None:
    lines = [line for line in _need(RAW).read_text(encoding="utf-8").splitlines() if line.strip()]
    meta = SEED_META if with_meta else {}
    tags = entity_tags(lines[1], None, lines, max_tags=40, **meta)  # type: ignore[arg-type]
    for name in expected["tags_must_include"]:
        assert name in tags
    banned = set(expected["tags_must_not_include"]) | JUNK
    if not with_meta:  # without metadata the publisher and credits are ordinary names
        banned -= {"Fox News", "The Associated Press"}
    assert not banned & set(tags), tags
    assert "Blinken" not in tags and "DPRK" not in tags


def test_footer_lines_alone_give_nothing() -> None:
    footer = [
        "Data & News supplied by www.cloudquote.io",
        "Stock quotes supplied by Barchart",
        "Quotes delayed at least 20 minutes.",
        "By accessing this page, you agree to the following",
        "Privacy Policy and Terms and Conditions.",
        "Skip to main content",
        "Sign Up For Our Newsletter | Cookie Settings | All Rights Reserved",
    ]
    assert entity_tags("", None, footer * 3) == ()


@pytest.mark.parametrize(
    ("canonical", "variants"),
    [
        (
            "North Korea",
            [
                "DPRK",
                "Democratic People's Republic of Korea",
                "North Korea",
                "N. Korea",
                "North Korean",
            ],
        ),
        ("United States", ["U.S.", "US", "USA", "United States", "America", "American", "U.S.A."]),
        ("United Kingdom", ["U.K.", "UK", "Britain", "United Kingdom", "British", "Great Britain"]),
        (
            "United Nations Security Council",
            ["U.N. Security Council", "UN Security Council", "United Nations Security Council"],
        ),
        ("European Union", ["EU", "E.U.", "European Union"]),
        ("South Korea", ["South Korean", "Republic of Korea", "ROK"]),
        ("Russia", ["Russian", "Russians", "Russian Federation"]),
        ("Germany", ["Deutschland", "Allemagne", "Alemania", "Germania", "German"]),
        ("United States", ["Estados Unidos", "États-Unis", "Vereinigte Staaten", "США", "美国"]),
    ],
)
def test_alias_variants_meet(canonical: str, variants: list[str]) -> None:
    for variant in variants:
        assert canonical_tag(variant) == canonical, variant
        text = f"Officials said on Friday that {variant} would respond."
        assert entity_tags("Talks", None, [text]) == (canonical,), variant


def test_canonical_tag_leaves_unknown_names_and_honours_user_aliases() -> None:
    assert canonical_tag("  Antony   Blinken ") == "Antony Blinken"
    assert canonical_tag("u.n. security council") == "United Nations Security Council"
    assert canonical_tag("DPRK", {"DPRK": "Best Korea"}) == "Best Korea"
    assert canonical_tag("Pyongyang", {"pyongyang": "north korea"}) == "North Korea"
    assert canonical_tag("Moskau", {"Moscow": "Russia"}) == "Russia"  # variants follow
    assert canonical_tag("N. Korea", {"North Korea": "DPRK"}) == "DPRK"  # the value is the tag


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("South Korean officials said the talks failed.", ("South Korea",)),
        ("A Russian drone hit the port.", ("Russia",)),
        ("Latin American leaders met in the capital.", ("Latin America",)),
        ("Secretary of State Antony Blinken spoke.", ("Antony Blinken",)),
        ("South Korean Foreign Minister Park Jin spoke.", ("Park Jin", "South Korea")),
        ("South Korean Unification Minister Kim Yung-ho spoke.", ("Kim Yung-ho", "South Korea")),
        ("The reporter Timothy H.J. Nerozzi wrote it.", ("Timothy H.J. Nerozzi",)),
        ("A speech by Ursula von der Leyen was held.", ("Ursula von der Leyen",)),
        ("Defense Secretary Lloyd Austin flew in.", ("Lloyd Austin",)),
        ("Officials met Park Jin and Kim Yung-ho.", ("Kim Yung-ho", "Park Jin")),
        ("The Russia-North Korea partnership grew.", ("North Korea", "Russia")),
    ],
)
def test_names_places_and_titles(sentence: str, expected: tuple[str, ...]) -> None:
    assert entity_tags("", None, [sentence]) == expected


def test_bare_surname_counts_towards_full_name() -> None:
    body = [
        "Maria Okafor, the finance minister, said the plan would pass.",
        "Okafor said the vote was close. Later, Okafor added that talks went on.",
        "Critics disagreed. Okafor did not reply to questions from Kenya and Ghana.",
    ]
    tags = entity_tags("Budget vote", None, body)
    assert tags[0] == "Maria Okafor"
    assert "Okafor" not in tags and "Critics" not in tags


def test_publisher_credits_and_authors_are_never_tags() -> None:
    body = [
        "Fox News Digital reported that Jane Roe met Antony Blinken in Paris.",
        "Roe, who writes for Reuters, said Blinken was late. Reuters was first to report.",
        "Antony Blinken later left Paris, Jane Roe said.",
    ]
    tags = entity_tags(
        "Blinken in Paris", None, body, source="Fox News", credits=["Reuters"], authors=["Jane Roe"]
    )
    assert tags == ("Antony Blinken", "Paris")


def test_user_aliases_and_stop_list() -> None:
    body = ["Kim Jong Un returned to Pyongyang on Friday. Pyongyang said nothing about Seoul."]
    assert "Pyongyang" in entity_tags("Return", None, body)
    tags = entity_tags("Return", None, body, aliases={"Pyongyang": "North Korea"}, stop=["seoul"])
    assert tags == ("North Korea", "Kim Jong Un")
    assert entity_tags("Return", None, body, stop=["Kim Jong Un", "Pyongyang", "Seoul"]) == ()


def test_max_tags_and_determinism() -> None:
    body = [f"Leaders of {c} met." for c in ["France", "Chile", "Peru", "Japan", "Kenya", "Spain"]]
    first = entity_tags("Summit", None, body, max_tags=3)
    assert len(first) == 3
    assert first == entity_tags("Summit", None, list(body), max_tags=3)
    assert entity_tags("Summit", None, body, max_tags=0) == ()
    # Earlier blocks weigh more; equal salience is ordered by name.
    assert entity_tags("Summit", None, body) == (
        "France",
        "Chile",
        "Peru",
        "Japan",
        "Kenya",
        "Spain",
    )
    assert entity_tags("", None, ["Peru, Chile and Japan met Kenya."]) == (
        "Chile",
        "Japan",
        "Kenya",
        "Peru",
    )


def test_weekdays_months_titles_and_boilerplate_words_are_not_tags() -> None:
    body = [
        "On Monday, the Secretary said in March that the State would act.",
        "The Minister spoke on Thursday. News of the Data leak spread on Friday in May.",
        "Monday was quiet. Thursday too. The Secretary and the Minister left. News, Data, Stock.",
    ]
    assert entity_tags("Monday Briefing From The Secretary", None, body) == ()


def test_title_case_headline_words_are_not_names() -> None:
    tags = entity_tags("Markets Rally As Investors Cheer Strong Jobs Report In Germany", None, [])
    assert tags == ("Germany",)


def test_german_text_gives_names_and_countries_but_no_nouns() -> None:
    body = [
        "Bundeskanzler Olaf Scholz hat am Montag den französischen Präsidenten Emmanuel Macron in "
        "Berlin empfangen. Die beiden Politiker sprachen über die Lage in der Ukraine und die "
        "Beziehungen zu Russland. Die Regierung will die Hilfe ausweiten.",
        "Nach dem Treffen sagte Scholz, Deutschland und Frankreich stünden an der Seite der "
        "Ukraine. Die Regierung prüfe neue Hilfe, die Regierung habe aber noch nicht entschieden.",
        "Macron betonte die Bedeutung der Zusammenarbeit mit der Europäischen Union und der NATO.",
    ]
    tags = entity_tags("Scholz trifft Macron in Berlin", None, body)
    assert {"Olaf Scholz", "Emmanuel Macron", "Ukraine", "Germany", "France"} <= set(tags)
    assert not {"Regierung", "Hilfe", "Bundeskanzler", "Montag", "Scholz", "Macron"} & set(tags)


def test_french_and_spanish_country_names_map_to_english_tags() -> None:
    fr = entity_tags(
        "Macron en Allemagne",
        None,
        ["Le président Emmanuel Macron a visité l'Allemagne et les États-Unis."],
    )
    assert {"Germany", "United States", "Emmanuel Macron"} <= set(fr)
    es = entity_tags("Sánchez", None, ["Pedro Sánchez viajó a Estados Unidos y a Ucrania."])
    assert {"United States", "Ukraine", "Pedro Sánchez"} <= set(es)


def test_cjk_uses_the_gazetteer_only() -> None:
    zh = [
        "美国国务卿布林肯周四表示，美国对俄罗斯和朝鲜之间的军事合作感到担忧。",
        "他在首尔发表讲话。",
    ]
    assert set(entity_tags("布林肯：美国担忧俄朝军事合作", None, zh)) == {
        "United States",
        "Russia",
        "North Korea",
        "Seoul",
    }
    ja = ["ブリンケン米国務長官は、ロシアと北朝鮮の軍事協力に懸念を示した。"]
    assert {"Russia", "North Korea"} <= set(entity_tags("懸念", None, ja))


@pytest.mark.parametrize(
    "body",
    [
        [],
        [""],
        ["   ", "\n\n", "!!!", "12345", "— – …"],
        ["<script>alert('X')</script> ../../etc/passwd {{ 7*7 }}"],
        ["A" * 20000],
        ["Ünïcödé " * 3000],
        ["\x00\ufeff\u200b Zero Width\u200bName"],
        ["Президент России Владимир Путин заявил, что КНДР — союзник."],
        ["مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया"],
        ["[Antony Blinken](https://example.com/Antony-Blinken) **spoke** in _Seoul_."],
    ],
)
def test_hostile_and_odd_inputs_do_not_crash(body: list[str]) -> None:
    tags = entity_tags("", None, body)
    assert isinstance(tags, tuple) and len(tags) <= 8
    assert all(isinstance(t, str) and t.strip() == t and t for t in tags)


def test_shipped_tables_are_sound() -> None:
    gaz = load_gazetteer()
    assert len([k for k, v in gaz.kinds.items() if v == "country"]) >= 190
    assert gaz.by_key["dprk"] == "North Korea"
    assert "secretary" in gaz.titles and "monday" in gaz.stop
    for canonical in gaz.kinds:
        assert canonical == canonical.strip() and "  " not in canonical


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def test_synthetic_corpus_precision_and_recall(tmp_path: Path) -> None:
    script = _need(SHARED / "bench" / "make_corpus.py")
    gold = tmp_path / "gold"
    subprocess.run(
        [sys.executable, str(script), "--n", "80", "--markdown", str(gold)],
        check=True,
        capture_output=True,
    )
    hits = found = wanted = 0
    for path in sorted(gold.glob("*.md")):
        _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
        meta = yaml.safe_load(front)
        paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
        tags = [_slug(t) for t in entity_tags(meta["title"], meta.get("summary"), paragraphs)]
        truth = set(meta["tags"][1:])  # the first tag is the topic
        hits += sum(1 for t in tags if t in truth or any(t.startswith(g + "-") for g in truth))
        found += len(tags)
        wanted += len(truth)
    assert hits / found >= 0.8
    assert hits / wanted >= 0.85


# --- the collector's run plans and inlined mentions equal the plain path ----------------------


def _reference_collect(gaz, blocks):  # type: ignore[no-untyped-def]
    """The collector as it was before run plans: gaz.parse events recorded one by one."""
    from archiver.ingest import entities as ent
    from archiver.ingest.gazetteer import COMMON, GAZETTEER, HAS_CJK, NAME, RUN_RE

    col = ent._Collector(gaz)
    texts, zones, offset = [], [], 0
    for zone, (text, weight, headline) in enumerate(blocks):
        if not text or (text.isupper() and len(text) > 12) or text in col.seen:
            continue
        col.seen.add(text)
        if "](" in text:
            text = ent._LINK_TARGET.sub("]", text)
        short = len(text) < ent.SHORT_BLOCK and not text.rstrip().endswith(ent._CLOSERS)
        strong = not ((headline or short) and ent._is_title_case(text))
        col.words += text.count(" ") + 1
        col.capitalised -= text.count(". ") + text.count("? ") + 1
        if gaz.cjk_re is not None and not text.isascii() and HAS_CJK.search(text):
            for match in gaz.cjk_re.finditer(text):
                ent._mention(col.found, gaz.cjk[match.group()], True, zone, weight, False, strong)
        texts.append(text)
        zones.append((offset, zone, weight, strong))
        offset += len(text) + 1
    if not texts:
        return col
    text = "\n".join(texts)
    index, (_, zone, weight, strong) = 0, zones[0]
    following = zones[1][0] if len(zones) > 1 else len(text) + 1
    for match in RUN_RE.finditer(text):
        start = match.start()
        while start >= following:
            index += 1
            _, zone, weight, strong = zones[index]
            following = zones[index + 1][0] if index + 1 < len(zones) else len(text) + 1
        if start and text[start - 1].isalnum() and text[start - 1] < "\u3000":
            continue
        events, capitalised = gaz.parse(match.group())
        col.capitalised += capitalised
        for kind, name, first in events:
            if kind == GAZETTEER:
                ent._mention(col.found, name, True, zone, weight, False, strong)
            elif kind == NAME:
                ent._mention(col.found, name, False, zone, weight, False, strong, ent._key(name))
            elif kind == COMMON:
                col.common.append((name, zone, weight))
            else:
                initial = first and ent._sentence_initial(text, start)
                ent._mention(col.singles, name, False, zone, weight, initial, strong)
    return col


def _state(col):  # type: ignore[no-untyped-def]
    """Everything a collector gathered, with the order of its tables and forms."""

    def table(found):  # type: ignore[no-untyped-def]
        return [
            (
                k,
                list(c.forms.items()),
                c.score,
                sorted(c.zones),
                c.mentions,
                c.mid,
                c.strong,
                c.gazetteer,
            )
            for k, c in found.items()
        ]

    return table(col.found), table(col.singles), col.common, col.words, col.capitalised


_WORDS = (
    "President Joe Biden met Kim Jong Un and Foreign Minister Park Jin of South Korea in Seoul "
    "the U.S. State Department said North Korea's DPRK Moscow Russia-Ukraine war iPhone eBay "
    "Ursula von der Leyen European Union Bank of England The White House Singh Park Lee "
    "Mr. Smith said. Dr. Ana Lopez, Fox News' Chris Pandolfo; ALL CAPS TEASER HERE NOW "
    "Die Bundesregierung hat Berlin Deutschland 北京 中国 日本 東京 [link](http://x.com/A B) "
    "Monday Tuesday CEO Tim Cook of Apple Inc. and Google? “Quoted Name” — L'avis d'Emmanuel Macron"
).split()


@pytest.mark.parametrize("seed", range(60))
def test_run_plans_gather_what_the_plain_path_gathers(seed: int) -> None:
    import random

    from archiver.ingest import entities as ent

    rng = random.Random(seed)
    gaz = load_gazetteer()
    blocks: list[tuple[str, float, bool]] = []
    for k in range(rng.randint(1, 12)):
        words = rng.choices(_WORDS, k=rng.randint(0, 40))
        text = " ".join(words)
        if rng.random() < 0.2:
            text = text.upper()
        if blocks and rng.random() < 0.1:
            text = blocks[-1][0]  # a repeated block counts once
        blocks.append((text, rng.choice([3.0, 2.0, 1.5, 1.0 + 0.5 / (1 + k)]), rng.random() < 0.2))
    fast = ent._Collector(gaz)
    fast.scan(blocks)
    assert _state(fast) == _state(_reference_collect(gaz, blocks))


def test_run_plans_follow_the_gazetteer() -> None:
    """A gazetteer with user aliases gets its own plans: 'Kim Jong Un' becomes the alias."""
    title = "Kim Jong Un visits Moscow"
    body = ["Kim Jong Un met officials in Moscow on Monday. Kim Jong Un left later."]
    plain = entity_tags(title, None, body)
    aliased = entity_tags(title, None, body, aliases={"Kim Jong Un": "Supreme Leader"})
    assert "Kim Jong Un" in plain and "Supreme Leader" not in plain
    assert "Supreme Leader" in aliased and "Kim Jong Un" not in aliased
    assert entity_tags(title, None, body) == plain  # and back again
