"""Bytes -> clean text: BOM, strict UTF-8, declared charset, detector, cp1252; then normalised."""

from __future__ import annotations

import codecs
import re
import unicodedata

from archiver.errors import InputError

MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "a Windows executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document"),
    (b"RIFF", "a media file"),
    (b"OggS", "an Ogg media file"),
    (b"ID3", "an MP3 file"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_ODD_SPACES = {
    "\u00a0": " ",
    "\u2007": " ",
    "\u202f": " ",
    "\u2000": " ",
    "\u2001": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u2004": " ",
    "\u2005": " ",
    "\u2006": " ",
    "\u2008": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u205f": " ",
    "\u3000": " ",
    "\t": " ",
    "\u2028": "\n",
    "\u2029": "\n\n",
    "\u0085": "\n",
    "\x0b": "\n",
    "\x0c": "\n",
}
_ODD_SPACE = re.compile("[" + "".join(_ODD_SPACES) + "]")
# Zero-width and invisible formatting characters (ZWJ/ZWNJ are kept: scripts and emoji need them).
_INVISIBLE = re.compile("[\u200b\u2060\ufeff\u00ad\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f\x80-\x84\x86-\x9f]")


def sniff_binary(data: bytes) -> str | None:
    """Why these bytes are not text (a NUL byte or a known magic number), or None."""
    if any(data.startswith(bom) for bom, _ in BOMS):
        return None
    for magic, what in MAGIC:
        if data.startswith(magic):
            return f"binary file ({what}), not a text or HTML page"
    if b"\x00" in data[:65536]:
        return "binary file (contains NUL bytes), not a text or HTML page"
    return None


def declared_charset(data: bytes) -> str | None:
    """The charset a page declares: its BOM, else <meta charset>/http-equiv/XML in the first 4 KB.

    Labels map as browsers map them (WHATWG): latin-1 and ASCII mean windows-1252.
    """
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return codecs.lookup(encoding).name
    head = data[:4096]
    match = _DECLARED.search(head) or _XML_DECL.search(head)
    if not match:
        return None
    name = match.group(1).decode("ascii", "replace").lower()
    aliases = {
        "gb2312": "gb18030",
        "gbk": "gb18030",
        "iso-8859-1": "cp1252",
        "latin-1": "cp1252",
        "latin1": "cp1252",
        "us-ascii": "cp1252",
        "ascii": "cp1252",
    }
    name = aliases.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, *, html: bool = False) -> tuple[str, str]:
    """Decode raw bytes to text; returns (text, encoding used). Raises InputError if impossible."""
    reason = sniff_binary(data)
    if reason:
        raise InputError(reason)
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding), encoding
            except UnicodeDecodeError:
                raise InputError(
                    f"undecodable: invalid {encoding} after its byte-order mark"
                ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if html:
        declared = declared_charset(data)
        if declared and declared != "utf-8":
            try:
                return data.decode(declared), declared
            except UnicodeDecodeError:
                pass
    return _detect(data)


def _detect(data: bytes) -> tuple[str, str]:
    """Charset detection for non-UTF-8 bytes, with cp1252 as the last resort."""
    from charset_normalizer import from_bytes

    western = _western_cp1252(data)
    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding not in ("utf_8", "ascii", "cp1252"):
        single_byte_latin = best.encoding.startswith(("cp125", "latin", "iso8859", "mac_"))
        if not (western is not None and single_byte_latin and best.encoding != "cp1251"):
            try:
                return data.decode(best.encoding), best.encoding
            except (UnicodeDecodeError, LookupError):
                pass
    if western is not None:
        return western, "cp1252"
    text = data.decode("cp1252", errors="replace")
    if text.count("\ufffd") > max(8, len(text) // 100):
        raise InputError("undecodable: not UTF-8 and no known character set fits")
    return text, "cp1252"


def _western_cp1252(data: bytes) -> str | None:
    """The cp1252 reading of the bytes when it decodes and looks like Western European text."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    letters = [ch for ch in text if ch.isalpha()]
    accented = sum(1 for ch in letters if ord(ch) > 127)
    return text if letters and accented / len(letters) < 0.25 else None


_ASCII_ODD = bytes.maketrans(b"\t\x0b\x0c", b" \n\n")
_ASCII_CONTROL = bytes(c for c in range(128) if _CONTROL.match(chr(c)))
_ANY_ODD = re.compile("|".join(f"(?:{p.pattern})" for p in (_ODD_SPACE, _INVISIBLE, _CONTROL)))
"""A character any of the three substitutions would change."""
_TRAILING_SPACES = re.compile(r" +$", re.MULTILINE)


def _normalise_ascii(text: str) -> str:
    """normalise_text of an ASCII text (line ends already unified), by byte operations:
    tabs and vertical tabs/form feeds mapped, control characters dropped, lines right-stripped
    (the only whitespace left is the space and the line break)."""
    text = text.encode("ascii").translate(_ASCII_ODD, _ASCII_CONTROL).decode("ascii")
    if " \n" in text or text.endswith(" "):
        text = _TRAILING_SPACES.sub("", text)
    return text


def normalise_text(text: str) -> str:
    """NFC; unify line ends; odd spaces to plain spaces; invisible and control characters out."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii():
        return _normalise_ascii(text)
    if _ANY_ODD.search(text) is not None:  # one scan instead of three for most texts
        text = _ODD_SPACE.sub(lambda m: _ODD_SPACES[m.group()], text)
        text = _INVISIBLE.sub("", text)
        text = _CONTROL.sub("", text)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def decode(data: bytes, *, html: bool = False) -> str:
    """Raw bytes -> normalised text, refusing binaries and empty inputs with a clear reason."""
    if not data:
        raise InputError("empty file (0 bytes)")
    text, _ = decode_bytes(data, html=html)
    text = normalise_text(text)
    if not text.strip():
        raise InputError("whitespace only: no text in the file")
    return text
