"""Decoding: BOM, UTF-8, declared charset, detector, cp1252; normalisation; binaries refused."""

from __future__ import annotations

import codecs

import pytest

from archiver.errors import InputError
from archiver.ingest.decode import declared_charset, decode, normalise_text, sniff_binary


def test_utf8_bom_and_crlf() -> None:
    data = codecs.BOM_UTF8 + b"Title\r\nBody line\rThird"
    assert decode(data) == "Title\nBody line\nThird"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_bom(encoding: str) -> None:
    data = "Zürich naïve".encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    assert decode(data) == "Zürich naïve"


def test_cp1252_fallback_keeps_smart_quotes_and_euro() -> None:
    text = "Café “quoted” costs € 100 — naïve."
    assert decode(text.encode("cp1252")) == text


def test_german_cp1252() -> None:
    text = "Der Bürgermeister äußerte sich über die Straßenbahn."
    assert decode(text.encode("cp1252")) == text


def test_cyrillic_single_byte_is_detected() -> None:
    text = "Москва — столица России, крупнейший город страны. " * 4
    assert decode(text.encode("cp1251")).strip() == text.strip()


def test_declared_html_charset_wins() -> None:
    html = '<html><head><meta charset="iso-8859-1"></head><body>café</body></html>'
    data = html.encode("latin-1")
    assert declared_charset(data) == "cp1252"
    assert "café" in decode(data, html=True)


def test_nfc_spaces_zero_width_and_controls() -> None:
    raw = "Cafe\u0301\u00a0bar\u200b baz\x07 \u202fend\u2028next"
    assert normalise_text(raw) == "Café bar baz  end\nnext"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"  \n\t \r\n", "whitespace only"),
        (b"%PDF-1.7 binary", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG"),
        (b"PK\x03\x04zip", "ZIP"),
        (b"text with \x00 NUL", "NUL"),
    ],
)
def test_refusals_have_clear_reasons(data: bytes, reason: str) -> None:
    with pytest.raises(InputError) as info:
        decode(data)
    assert reason in info.value.message


def test_sniff_binary_accepts_text() -> None:
    assert sniff_binary(b"plain text") is None


def _normalised_by_definition(text: str) -> str:
    """normalise_text spelled out: every substitution, NFC, every line right-stripped."""
    import unicodedata

    from archiver.ingest import decode as module

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = module._ODD_SPACE.sub(lambda m: module._ODD_SPACES[m.group()], text)
    text = module._INVISIBLE.sub("", text)
    text = module._CONTROL.sub("", text)
    text = unicodedata.normalize("NFC", text)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def test_fast_paths_normalise_like_the_definition() -> None:
    import random

    rnd = random.Random(20261128)
    ascii_chars = [chr(c) for c in range(128)] + ["a", "B", " ", " ", "\n", "\r\n", "\t"] * 8
    others = ["é", "“", "\u00a0", "\u200b", "\u2028", "\x85", "\x9f", "e\u0301", "\u3000"]
    for _ in range(3000):
        text = "".join(rnd.choice(ascii_chars) for _ in range(rnd.randint(0, 30)))
        assert normalise_text(text) == _normalised_by_definition(text), repr(text)
        mixed = text + rnd.choice(others) + text[::-1]
        assert normalise_text(mixed) == _normalised_by_definition(mixed), repr(mixed)
    typographic = "Line “one” — naïve  \nTwo\t\x0bthree\x01  \n"
    assert normalise_text(typographic) == "Line “one” — naïve\nTwo\nthree\n"
