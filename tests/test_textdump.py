"""The text page-dump cleaner: the seed expectations, hostile text, other languages."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from archiver.errors import NotAnArticleError
from archiver.ingest.boilerplate import BoilerplateModel
from archiver.ingest.byline import credit_lines
from archiver.ingest.textdump import dump_lines, extract_textdump
from archiver.ingest.textfeatures import escape_paragraph, language_of, word_runs

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures"
DUMPS = Path(__file__).parent / "fixtures" / "dumps"
SEED = "000_f939df497fa72000"


def _norm(text: str) -> str:
    """Comparison form of the seed file: whitespace, NBSP and curly quotes ignored."""
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ")
    for curly, straight in (("\u201c", '"'), ("\u201d", '"'), ("\u2018", "'"), ("\u2019", "'")):
        text = text.replace(curly, straight)
    return " ".join(text.split())


@pytest.fixture(scope="module")
def model() -> BoilerplateModel:
    return BoilerplateModel.empty()


def _seed() -> tuple[str, dict[str, object]]:
    if not FIXTURES.is_dir():
        pytest.skip(f"shared fixtures folder {FIXTURES} is absent")
    raw = (FIXTURES / "raw" / f"{SEED}.txt").read_text(encoding="utf-8")
    expected = json.loads((FIXTURES / "expected" / f"{SEED}.json").read_text(encoding="utf-8"))
    return raw, expected


def test_seed_expectations_hold(model: BoilerplateModel) -> None:
    raw, exp = _seed()
    found = extract_textdump(raw, boilerplate=model)
    assert _norm(found.title) == _norm(str(exp["title"]))
    assert found.summary is not None and _norm(found.summary) == _norm(str(exp["summary"]))
    assert found.source == exp["source"]
    assert list(found.authors) == exp["authors"]
    assert list(found.credits) == exp["credits"]
    assert found.published is None and exp["published"] is None
    assert len(found.body) == exp["body_paragraph_count"]
    assert _norm(found.body[0]).startswith(_norm(str(exp["body_first_paragraph_starts_with"])))
    assert _norm(found.body[-1]).endswith(_norm(str(exp["body_last_paragraph_ends_with"])))
    text = "\n".join(found.body)
    for banned in exp["body_must_not_contain"]:  # type: ignore[attr-defined]
        assert banned not in text
    assert found.language == "en"
    assert found.origins["title"] == "headline-model"


def test_french_dump(model: BoilerplateModel) -> None:
    found = extract_textdump((DUMPS / "fr_lemonde_like.txt").read_text("utf-8"), boilerplate=model)
    assert found.title == "Le Parlement adopte la réforme des retraites après un long débat"
    assert found.summary is not None and found.summary.startswith("Le texte, contesté")
    assert found.authors == ("Camille Dupont", "Julien Moreau")
    assert found.language == "fr"
    assert str(found.published).startswith("2023-03-14 21:15")
    assert found.body[0].startswith("Les députés ont adopté mardi soir")
    assert found.body[-1].endswith("avant la fin du mois.")
    assert not any("Lire aussi" in p or "Partager" in p or "Publicité" in p for p in found.body)
    assert found.source == "Le Quotidien"


def test_german_dump(model: BoilerplateModel) -> None:
    found = extract_textdump((DUMPS / "de_zeitung_like.txt").read_text("utf-8"), boilerplate=model)
    assert found.title == "Bahnstreik legt Fernverkehr in ganz Deutschland lahm"
    assert found.authors == ("Anna Schmidt",)
    assert found.language == "de"
    assert len(found.body) == 4
    assert "Anzeige" not in found.body
    assert found.published is not None and found.published.day == 9


SENTENCES = (
    "Paragraph 0: the council met on Tuesday and agreed on a plan for the river banks.",
    "Engineers warned that the work would take several years and cost far more than hoped.",
    "Residents who live near the water said they had waited a decade for any repairs at all.",
    "The mayor promised that the first contracts would be signed before the end of summer.",
    "Opponents of the scheme argued that the money should go to schools and buses instead.",
)


def _article(title: str, paragraphs: int = 5, story: str = "") -> str:
    body = "\n\n".join(story + s for s in SENTENCES[:paragraphs])
    return f"Skip to main content\n\nHome\n\n{title}\n\nBy Jane Roe\n\n{body}\n\nPrivacy Policy\n"


@pytest.mark.parametrize(
    "title",
    [
        '<script>alert("x")</script> Council backs river plan',
        "--- title: pwned\n",
        "Council: backs [river] plan & 'more' #1",
    ],
)
def test_hostile_titles_are_plain_text(model: BoilerplateModel, title: str) -> None:
    found = extract_textdump(_article(title), boilerplate=model)
    first_line = title.strip().splitlines()[0]
    assert found.title == first_line
    assert found.authors == ("Jane Roe",)
    assert len(found.body) == 5


def test_body_markdown_is_escaped(model: BoilerplateModel) -> None:
    assert escape_paragraph("# not a heading") == "\\# not a heading"
    assert escape_paragraph("1. not a list") == "1\\. not a list"
    assert escape_paragraph("- dash") == "\\- dash"
    assert escape_paragraph("> quote") == "\\> quote"
    assert escape_paragraph("---") == "\\---"
    assert escape_paragraph("a <b>bold</b> & *x* [y]") == "a &lt;b>bold&lt;/b> & \\*x\\* \\[y\\]"
    assert escape_paragraph("snake_case stays") == "snake_case stays"
    assert escape_paragraph("&amp; entity") == "&amp;amp; entity"
    text = _article("River plan").replace("Paragraph 0", "<img src=x onerror=alert(1)> Paragraph 0")
    found = extract_textdump(text, boilerplate=model)
    assert found.body[0].startswith("&lt;img src=x")


def test_boilerplate_only_dump_is_not_an_article(model: BoilerplateModel) -> None:
    stub = "Skip to main content\nSubscribe\nSign In\nAdvertisement\nPrivacy Policy\nMenu\n"
    with pytest.raises(NotAnArticleError, match="boilerplate only"):
        extract_textdump(stub, boilerplate=model)
    with pytest.raises(NotAnArticleError):
        extract_textdump("\n\n", boilerplate=model)


def test_repeated_lines_across_a_batch_are_dropped() -> None:
    footer = "Our journalism depends on readers like you, so please consider a gift today"
    texts = [
        _article(f"Story number {i} about rivers", story=f"In story {i}, ") + footer + "\n"
        for i in range(4)
    ]
    texts = [t.replace("Opponents", footer + "\n\nOpponents") for t in texts]
    batch = BoilerplateModel.build(texts, min_repeat=3)
    assert batch.is_boilerplate(footer)
    found = extract_textdump(texts[0], boilerplate=batch)
    assert footer not in found.body
    alone = extract_textdump(texts[0], boilerplate=BoilerplateModel.empty())
    assert any(footer in p for p in alone.body)


def test_rescraped_article_keeps_its_body() -> None:
    """An article scraped three times must not lose its text to repetition evidence."""
    text = _article("The same story thrice")
    batch = BoilerplateModel.build([text, text + "\nFooter A\n", text + "\nFooter B\n"])
    found = extract_textdump(text, boilerplate=batch)
    assert len(found.body) == 5


def test_hard_wrapped_dump_is_rejoined(model: BoilerplateModel) -> None:
    para = "\n".join(
        f"        line {i} of a wrapped paragraph: {s}" for i, s in enumerate(SENTENCES)
    )
    other = "\n".join(f"        {s.upper()[:20].lower()} {s}" for s in reversed(SENTENCES))
    text = f"        Menu\n\n        A wrapped page title here\n\n{para}\n\n{other}\n"
    found = extract_textdump(text, boilerplate=model)
    assert len(found.body) == 2
    assert found.body[0].startswith("line 0 of a wrapped") and "line 4" in found.body[0]


def test_cjk_dump(model: BoilerplateModel) -> None:
    body = "\n".join(
        [
            "今天上午，市政府召开新闻发布会，宣布将在未来三年内全面改造城市河道。",
            "据介绍，改造工程包括清理淤泥、加固堤岸以及修建沿河步道等多个项目。",
            "不少居民表示，河道改造计划让他们对周边生活环境的改善充满期待。",
            "专家指出，工程实施过程中应当注意保护河流生态，避免破坏原有植被。",
            "市政府表示，将定期向社会公布工程进度，接受市民的监督和建议。",
        ]
    )
    text = f"首页\n新闻\n城市河道改造计划正式启动\n{body}\n版权所有\n"
    found = extract_textdump(text, boilerplate=model)
    assert found.title == "城市河道改造计划正式启动"
    assert len(found.body) == 5
    assert found.language == "zh"


def test_comment_section_after_article_is_cut(model: BoilerplateModel) -> None:
    text = (DUMPS / "en_comments_after.txt").read_text("utf-8")
    found = extract_textdump(text, boilerplate=model)
    assert found.title == "Town library reopens after two years of repairs"
    assert found.authors == ("Maria Lopez",)  # a bare name with a date line under the headline
    assert len(found.body) == 3
    assert found.body[-1].endswith("examination season each spring.")
    assert not any("café is a nice touch" in p for p in found.body)


def test_inline_related_box_keeps_the_rest_of_the_article(model: BoilerplateModel) -> None:
    text = (DUMPS / "en_inline_related.txt").read_text("utf-8")
    found = extract_textdump(text, boilerplate=model)
    assert found.authors == ("Tom Reed",)
    assert found.body[0].startswith("The river council approved")
    assert found.body[-1].startswith("Opponents argued")  # stops at 'More from News'
    assert not any("Stock markets" in p for p in found.body)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (
            "Le gouvernement a présenté mardi un projet de loi sur les retraites qui sera "
            "examiné par les députés dans les prochaines semaines.",
            "fr",
        ),
        (
            "Die Regierung hat am Dienstag einen Gesetzentwurf vorgelegt, der in den nächsten "
            "Wochen im Bundestag beraten werden soll und für die Rente gilt.",
            "de",
        ),
        (
            "El gobierno presentó el martes un proyecto de ley sobre las pensiones que será "
            "debatido por los diputados en las próximas semanas.",
            "es",
        ),
        ("今日は朝から雨が降っていて、子どもたちは学校へ行く前に長靴をはいて出かけました。", "ja"),
        ("今天上午，市政府召开新闻发布会，宣布将在未来三年内全面改造城市河道。", "zh"),
        ("Η κυβέρνηση παρουσίασε την Τρίτη ένα νομοσχέδιο για τις συντάξεις.", "el"),
        (
            "Правительство во вторник представило законопроект о пенсиях, который "
            "рассмотрят депутаты.",
            "ru",
        ),
    ],
)
def test_language_detection_is_cheap_and_right(text: str, code: str) -> None:
    assert language_of(text) == code


def test_paywall_stub_and_short_pages_are_not_articles(model: BoilerplateModel) -> None:
    stub = (
        "Skip to main content\n\nSubscribe to continue reading\n\nYou have reached your limit "
        "of free articles this month.\n\nAlready a subscriber? Sign In\n\n"
        "Privacy Policy | Terms of Use\n"
    )
    with pytest.raises(NotAnArticleError, match="boilerplate only"):
        extract_textdump(stub, boilerplate=model)
    teaser = (
        "Home\n\nRiver plan approved\n\nThe council approved the river plan on Tuesday night.\n"
    )
    with pytest.raises(NotAnArticleError, match="words of article text"):
        extract_textdump(teaser, boilerplate=model)
    assert extract_textdump(_article("River plan approved", paragraphs=3), boilerplate=model).body


def test_headline_printed_twice_above_the_story_wins(model: BoilerplateModel) -> None:
    title = "Council approves river plan after years of delay"
    chrome = "\n".join(f"Section {i}" for i in range(12))
    text = (
        f"Menu\n{title}\nSign In\nWorld\n{title}\nShare on Facebook\nShare on Twitter\n{chrome}\n"
        "Photo gallery: boats on the water\nView Photos\n"
        + "\n".join(story + s for story in ("", "Later, ") for s in SENTENCES)
    )
    found = extract_textdump(text, boilerplate=model)
    assert found.title == title


def test_breadcrumb_headline_is_cut_from_its_trail(model: BoilerplateModel) -> None:
    text = _article("News > 2024 > Region > Council approves the river plan")
    found = extract_textdump(text, boilerplate=model)
    assert found.title == "Council approves the river plan"


def test_headline_under_a_stray_notice_and_above_a_share_bar(model: BoilerplateModel) -> None:
    notice = (
        "This story is unlisted, which means only people with the link can see it. Are you "
        "sure you want to share it with everybody you know right now?"
    )
    title = "A harbour town rebuilds its river walls"
    body = "\n\n".join(SENTENCES)
    text = (
        f"Ready to publish?\nFeatured Close Publish changes\nSign in / Sign up\n\n{notice}\n"
        f"{title}\nShare on Twitter\nShare on Facebook\n{body}\n"
    )
    assert extract_textdump(text, boilerplate=model).title == title


def test_subheading_between_paragraphs_is_not_the_headline(model: BoilerplateModel) -> None:
    title = "Council approves the river plan after long delays"
    body = "\n\n".join(SENTENCES[:2]) + "\n\nWhat happens to the river banks next\n\n"
    body += "\n\n".join(SENTENCES[2:])
    text = f"Home\n\nWorld\n\n{title}\n\n{body}\n"
    assert extract_textdump(text, boilerplate=model).title == title


def test_headline_with_a_dek_beats_teasers_and_share_labels(model: BoilerplateModel) -> None:
    title = "The river plan is a bet: councils, engineers and the truth about old walls"
    dek = "The council says the river plan will last a century; engineers are not so sure"
    teasers = "\n".join(
        f"Teaser number {n} about a completely different subject of the day Ann Other"
        for n in range(3)
    )
    text = (
        f"Menu\n{teasers}\nLog out\nSunday, Feb 1, 2015 11:57 AM UTC\n{title}\n{dek}\n"
        "Richard (R.J.) Roe\nAll Share Services\n" + "\n".join(SENTENCES) + "\n"
    )
    found = extract_textdump(text, boilerplate=model)
    assert found.title == title
    assert found.authors == ("Richard Roe",)


def test_byline_a_few_lines_into_the_body(model: BoilerplateModel) -> None:
    title = "Council approves the river plan after long delays"
    text = (
        f"Home\n\n{title}\n\n{SENTENCES[0]}\n\n{SENTENCES[1]}\n\n{SENTENCES[2]}\n\n"
        f"River banks at dawn. Photo: Ann Lee\n\nBy Maria Gonzalez\n\n"
        + "\n\n".join(SENTENCES[3:])
        + "\n"
    )
    assert extract_textdump(text, boilerplate=model).authors == ("Maria Gonzalez",)


def test_author_from_a_bio_line_after_the_body(model: BoilerplateModel) -> None:
    text = (
        "Home\n\nCouncil approves the river plan after long delays\n\n"
        + "\n\n".join(SENTENCES)
        + "\n\nTomas Novak is a staff reporter covering city hall and transport.\n"
    )
    assert extract_textdump(text, boilerplate=model).authors == ("Tomas Novak",)


def test_pipe_separated_byline_inside_a_date_line(model: BoilerplateModel) -> None:
    text = (
        "Accueil\n\nLe conseil approuve enfin le plan pour la rivière\n\n"
        "Le Quotidien | 04.05.2015 à 13h36 • Mis à jour le 05.05.2015 à 20h13 | "
        "Par Claire Martin (avec Paul Roux et Léa Petit)\n\n" + "\n\n".join(SENTENCES) + "\n"
    )
    found = extract_textdump(text, boilerplate=model)
    assert found.authors == ("Claire Martin", "Paul Roux", "Léa Petit")


def test_cjk_headline_beats_the_breadcrumb_trail(model: BoilerplateModel) -> None:
    text = (DUMPS / "zh_portal_like.txt").read_text("utf-8")
    found = extract_textdump(text, boilerplate=model)
    assert found.title == "研究人员发现深海鱼类依靠微弱光线导航的新机制"
    assert found.body[0].startswith("海洋研究所的科研团队近日发表论文")
    assert found.language == "zh"


def test_breadcrumb_with_double_arrows_is_not_the_headline(model: BoilerplateModel) -> None:
    text = (DUMPS / "zh_portal_like.txt").read_text("utf-8")
    text = text.replace("首页 > 科技频道 > 探索者 > 正文", "首页 >> 科技资讯 >> 正文")
    found = extract_textdump(text, boilerplate=model)
    assert found.title == "研究人员发现深海鱼类依靠微弱光线导航的新机制"


def test_full_headline_beats_its_shortened_copy(model: BoilerplateModel) -> None:
    text = (DUMPS / "en_short_share_title.txt").read_text("utf-8")
    found = extract_textdump(text, boilerplate=model)
    assert found.title == "Singer Jane Roe's $90K Diamond Necklace -- STOLEN!!!"
    assert found.body[0].startswith("Singer Jane Roe's diamond necklace was taken")


def test_prefer_fuller_picks_the_line_holding_all_the_winners_words(
    model: BoilerplateModel,
) -> None:
    from archiver.ingest.headline import _prefer_fuller
    from archiver.ingest.textfeatures import analyse

    texts = [
        "Singer Jane Roe's $90K Diamond Necklace -- STOLEN!!!",
        "Jane Roe",
        "$90K Diamond Necklace ... STOLEN!!!",
        "Diamond thieves are stealing necklaces in the city every week.",
    ]
    lines = analyse(texts, model)
    assert _prefer_fuller(lines, [(5.8, 0, 0), (6.0, -2, 2)], 2) == 0
    assert _prefer_fuller(lines, [(3.0, 0, 0), (6.0, -2, 2)], 2) == 2  # too far behind
    assert _prefer_fuller(lines, [(6.0, -2, 2), (5.9, -3, 3)], 2) == 2  # a sentence, not a title


# --- headline evidence beyond the 45-line window (session 2) ---


def _about(subject: str) -> str:
    """Five body paragraphs about a subject (headline evidence: the body shares its words)."""
    return "\n".join(f"{subject} matters here: {s}" for s in SENTENCES)


def test_flush_left_head_of_a_page_with_indented_code_keeps_its_lines() -> None:
    code = "\n\n".join(f"    SELECT {n} FROM t;\n    WHERE x > {n};" for n in range(20))
    head = "21 September 2020\nSQL\nSimple anomaly detection\nIdentify problems early"
    lines = dump_lines(f"Jane Roe\nAbout\n\n{head}\n\n{SENTENCES[0]}\n\n{code}\n")
    assert lines[:7] == ["Jane Roe", "About", *head.split("\n"), SENTENCES[0]]
    assert lines[7] == "SELECT 0 FROM t; WHERE x > 0;"


def test_headline_above_its_byline_after_a_cookie_notice_in_the_content(
    model: BoilerplateModel,
) -> None:
    notice = (
        "We gather data on your visit to improve your experience, show offers and measure "
        "traffic; by continuing you consent to these activities unless you withdraw consent "
        "using the form in our help pages, and you agree to our terms of service."
    )
    title = "How does the river plan turn old walls into new banks?"
    body = "\n".join(SENTENCES)
    text = (
        f"Health\nNews\nMNT - Hourly River News Since 2003\nSearch Go\n{notice}\n"
        f"Continue to site\nSign up for a free account to follow the stories you care about.\n"
        f"{title}\nPublished Thursday 27 July 2017\nBy Ana Sandoiu\n{body}\n"
    )
    found = extract_textdump(text, boilerplate=model)
    assert found.title == title
    assert found.authors == ("Ana Sandoiu",)
    assert notice not in found.body


def test_subject_of_the_first_paragraph_is_the_title_however_far_above(
    model: BoilerplateModel,
) -> None:
    infobox = "\n".join(f"Field {n}\tValue number {n} of the box" for n in range(60))
    lede = "New Harbour (Maori: Te Awa) is a town on the river, with a council and old walls."
    body = _about("New Harbour")
    text = f"New Harbour\nFrom the free encyclopedia\n{infobox}\n{lede}\nContents\n{body}\n"
    assert extract_textdump(text, boilerplate=model).title == "New Harbour"


def test_capitalised_heading_above_a_written_by_line_is_the_headline(
    model: BoilerplateModel,
) -> None:
    chapters = "\n".join(f"{n}. Chapter number {n} of the book" for n in range(1, 30))
    body = _about("Monitoring of distributed systems")
    text = f"{chapters}\nMonitoring Distributed Systems\nWritten by Rob Ewaschuk\n{body}\n"
    assert extract_textdump(text, boilerplate=model).title == "Monitoring Distributed Systems"


def test_a_list_of_names_is_no_byline_for_the_line_above_it(model: BoilerplateModel) -> None:
    cast = "Characters:\nMidoriya Izuku\nYagi Toshinori | All Might\nMidoriya Inko\n"
    cast += "Sensei | All For One\nTsukauchi Naomasa\nBakugou Katsuki\nTodoroki Shouto\n"
    stats = "Stats:\nWords:\n67379\nChapters:\nKudos:\n"
    body = _about("A conversation with the cryptid")
    text = f"{cast}{stats}Conversations with a Cryptid\nSummary:\n{body}\n"
    assert extract_textdump(text, boilerplate=model).title == "Conversations with a Cryptid"


def test_glued_menu_items_are_neither_byline_nor_headline(model: BoilerplateModel) -> None:
    from archiver.ingest.byline import parse_byline

    assert parse_byline("Últimas NoticiasSociedadPolíticaEl MundoOpinión", bare_names=True) is None
    assert parse_byline("Ana Lopez and Bo Li", bare_names=True) is not None
    title = "Una solución no violenta para la cuestión del río"
    body = "\n".join(SENTENCES)
    text = (
        "MENÚ\nConflicto del río\nSEGUIR\nÚltimas NoticiasSociedadPolíticaEl MundoOpinión\n"
        "Más LeídasBuenos AiresSeguridadLa Nacion DataEditoriales\nEdición Impresa\n"
        f"Suscribite\n{title}\n{body}\n"
    )
    assert extract_textdump(text, boilerplate=model).title == title


def test_a_bar_separated_menu_is_not_prose(model: BoilerplateModel) -> None:
    from archiver.ingest.textfeatures import BAD, GOOD, analyse

    menu = "首页|新闻|图片|评论|共青团|娱乐|时尚|财经|军事|体育|创业就业|高校|旅游|发现|视频|游戏"
    line = analyse([menu], model)[0]
    assert line.kind != GOOD and line.kind != BAD


def test_dotted_day_month_year_dates() -> None:
    from archiver.ingest.metadata import is_date_line, parse_date

    assert str(parse_date("21.dez.2018 às 12h55")) == "2018-12-21 12:55:00"
    assert is_date_line("21.dez.2018 às 12h55")
    assert str(parse_date("3. März 2019")) == "2019-03-03"
    assert str(parse_date("1.2.2019")) == "2019-02-01"


# --- headline/dek pairs, typed lists, hard-wrapped heads (session 2, titles 2) ---


def test_dedented_row_under_a_headline_in_a_wrapped_dump_is_its_dek() -> None:
    filler = "\n\n".join(f"    Menu item {n}" for n in range(8))
    head = "        River plan review: a scheme that keeps up with the floods\n"
    head += "     But only the old walls\n        will notice it."
    para = (
        "        The council met on Tuesday and agreed on a plan\n            for the river banks."
    )
    lines = dump_lines(f"{filler}\n\n{head}\n\n{para}\n")
    assert lines[8:] == [
        "River plan review: a scheme that keeps up with the floods",
        "But only the old walls will notice it.",
        "The council met on Tuesday and agreed on a plan for the river banks.",
    ]
    code = dump_lines(f"{filler}\n\n        GET /path?to=a,\nb HTTP/1.1\n        Host: x.org\n")
    assert code[8:] == ["GET /path?to=a, b HTTP/1.1 Host: x.org"]  # no capitalised dedent


def test_headline_over_a_longer_unpunctuated_dek_that_shares_more_words(
    model: BoilerplateModel,
) -> None:
    title = "Mayor says he erred in taking the river cup to the governor"
    dek = "At the time, the council coach handed a replica of the trophy to the former chief"
    body = [
        "After refusing a meeting with the new governor, the mayor said he erred in 2012 when "
        "he took the river cup to the governor's office, a gesture he now regrets deeply.",
        "At the time, the council coach and other officials handed a replica of the trophy "
        "to the former chief, who kept it until the governor asked the mayor to return it.",
        *SENTENCES,
    ]
    text = (
        "Menu\nSections\nFollow us\n" + f"{title}\n{dek}\nCopy link\n21 Dec 2018 12:55\n"
        "Listen\nSmaller text\nLarger text\n" + "\n".join(body) + "\n"
    )
    found = extract_textdump(text, boilerplate=model)
    assert found.title == title
    assert found.body[0].startswith("After refusing")


def test_a_typed_bullet_list_is_the_body_under_its_headline(model: BoilerplateModel) -> None:
    items = [f"+ Added feature number {n} to the river plan" for n in range(12)]
    items += ["+ Added walls", "+ Added banks", "* Council meetings are now public"]
    text = (
        "Plan News\nPowered by Blogware\nRiver Plan 1.8 - The Bountiful Update\n"
        + "\n".join(items)
        + "\n"
        + "\n".join(SENTENCES)
        + "\nNewerOlder\nOfficial links:\nPlan.net\n"
    )
    found = extract_textdump(text, boilerplate=model)
    assert found.title == "River Plan 1.8 - The Bountiful Update"
    assert "\\+ Added walls" in found.body and "\\+ Added banks" in found.body
    assert found.authors == ()


def test_platform_credits_are_not_bylines() -> None:
    from archiver.ingest.byline import parse_byline

    for text in ("Powered by Tumblr", "Proudly powered by WordPress", "Theme designed by Ann Lee"):
        assert parse_byline(text) is None, text
        assert parse_byline(text, bare_names=True) is None, text
    assert parse_byline("By Ann Lee") is not None


# --- CPU work (session 2): lazy line features, credit-line scan ---


def test_lazy_line_features_follow_their_definitions(model: BoilerplateModel) -> None:
    from archiver.ingest.metadata import is_date_line
    from archiver.ingest.textfeatures import analyse

    texts = [
        "Published December 19, 2024 6:24pm EST",
        "By Ana Lopez and Bo Li",
        "The council met in 2019. It voted twice! Then it adjourned? Yes.",
        "Written by Rob Ewaschuk, 2021",
        "A long line " + "about nothing in particular " * 8 + "in 2020.",
    ]
    for line in analyse(texts, model):
        text = line.text
        assert line.has_date == (len(text) <= 160 and any(y in text for y in ("2019", "2020",
                                 "2021", "2024")))  # fmt: skip
        assert line.is_date == (line.has_date and is_date_line(text))
        assert line.is_byline == (len(text) <= 160 and text.startswith(("By ", "Written by")))
    sentences = [line.sentences for line in analyse(texts, model)]
    assert sentences == [0, 0, 4, 0, 1]
    item = analyse(texts, model)[2].rescored(1.5)
    assert (item.score, item.sentences, item.text) == (1.5, 4, texts[2])


def test_credit_lines_scan_finds_credits_by_index() -> None:
    from archiver.ingest.byline import credit_lines, parse_credit_line

    texts = [
        "The vote was held on Monday.",
        "Fox News' Chris Pandolfo and The Associated Press contributed to this report.",
        "REPORTING BY ANA LOPEZ; EDITING BY BO LI",
        "Additional reporting by Jane Roe",
        "Nobody CONTRIBUTED anything here",
    ]
    found = credit_lines(texts)
    assert 1 in found and 3 in found and 0 not in found and 4 not in found
    assert found == {i: c for i, t in enumerate(texts) if (c := parse_credit_line(t)) is not None}
    assert found[1].authors == ("Chris Pandolfo",) and found[1].source == "Fox News"
    assert credit_lines([]) == {}


def test_word_runs_equal_the_regex_runs() -> None:
    """Long texts are cut by byte operations: exactly the runs of \\w+ and [^\\W\\d_]+."""
    import random
    import re

    rnd = random.Random(11)
    chars = [chr(c) for c in range(128)] + list("éüßİΣ“”’—·١²½中\u0301\u3000") + ["ab "] * 20
    for _ in range(1000):
        text = "".join(rnd.choice(chars) for _ in range(rnd.randint(150, 300)))
        assert word_runs(text) == re.findall(r"\w+", text)
        assert word_runs(text, letters=True) == re.findall(r"[^\W\d_]+", text)
    surrogate = "x" * 250 + "\ud800 word"
    assert word_runs(surrogate) == re.findall(r"\w+", surrogate)


def test_credit_lines_finds_each_kind_of_credit_line() -> None:
    texts = [
        "Headline",
        "A paragraph that mentions nothing of the kind.",
        "  Reporting by Ana Lopez; editing by Bo Li",
        "Fox News' Chris Pandolfo and The Associated Press contributed to this report.",
        "He was reporting by phone from Kyiv.",
    ]
    found = credit_lines(texts)
    assert sorted(found) == [2, 3]
    assert found[2].authors == ("Ana Lopez",)
    assert found[3].authors == ("Chris Pandolfo",)
    assert found[3].source == "Fox News"
    # A text holding a line break: every text is tested on its own, with the same result.
    assert sorted(credit_lines([*texts, "two\nlines"])) == [2, 3]
