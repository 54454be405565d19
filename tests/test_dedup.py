"""Exact and near-duplicate fingerprints."""

from __future__ import annotations

from archiver.ingest import dedup


def _body(seed: int, n: int = 30) -> list[str]:
    return [
        f"Paragraph {i} of story {seed} talks about topic {i * seed} in detail here."
        for i in range(n)
    ]


def test_exact_key_ignores_markup_and_case() -> None:
    a = dedup.fingerprint("T", ["Hello, *World*!"])
    assert a.exact == dedup.fingerprint("T", ["hello world"]).exact


def test_near_duplicate_with_other_boilerplate() -> None:
    a = _body(7)
    b = ["Subscribe to our newsletter", *a[:-1], "Advertisement"]
    fa, fb = dedup.fingerprint("Same", a), dedup.fingerprint("Same", b)
    assert dedup.is_near_duplicate("Same", fa, "Same", fb, 0.8)
    assert dedup.estimated_similarity(fa.signature, fb.signature) > 0.7


def test_different_articles_are_not_merged() -> None:
    fa, fb = dedup.fingerprint("A", _body(3)), dedup.fingerprint("B", _body(5))
    assert not dedup.is_near_duplicate("A story", fa, "Another story", fb, 0.8)


def test_lsh_finds_candidates() -> None:
    index = dedup.NearIndex()
    sig = dedup.fingerprint("", _body(11)).signature
    index.add("x", sig)
    near = dedup.fingerprint("", _body(11)[:-2]).signature
    assert index.candidates(near) == ["x"]
    assert index.candidates(dedup.fingerprint("", _body(99)).signature) == []


def test_signature_round_trip() -> None:
    sig = dedup.fingerprint("", _body(2)).signature
    assert dedup.decode_signature(dedup.encode_signature(sig)) == sig


def test_cjk_tokens() -> None:
    assert dedup.tokens("東京タワー visit") == ["東", "京", "タ", "ワ", "ー", "visit"]


def test_template_bodies_with_other_headlines_stay_apart() -> None:
    template = [
        f"Council report {i}: the long municipal report says the {{}} budget line rose again "
        "this year, as the council said it would in its spring statement to residents."
        for i in range(12)
    ]
    a = dedup.fingerprint("", [p.format("parks") for p in template])
    b = dedup.fingerprint("", [p.format("roads") for p in template])
    assert 0.8 < dedup.overlap(a, b)[0] < 0.95
    assert not dedup.is_near_duplicate("Parks budget grows", a, "Road repairs delayed", b, 0.8)
    assert dedup.is_near_duplicate("Parks budget grows", a, "Parks budget grows again", b, 0.8)


def test_signature_match_needs_agreeing_titles_unless_identical() -> None:
    sig = dedup.fingerprint("", _body(4)).signature
    assert dedup.signatures_match("One title", sig, "Completely different", sig, 0.8)
    other = dedup.fingerprint("", _body(4)[:-4]).signature
    assert not dedup.signatures_match("Parks", other, "Roads", sig, 0.8) or (
        dedup.estimated_similarity(other, sig) >= 0.95
    )


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_fingerprints_are_stable_across_versions() -> None:
    # Signatures are stored in the state file: a faster implementation must give the same bytes,
    # or near duplicates of articles ingested by an earlier version would go unnoticed.
    body = [
        f"Paragraph {i} of story 7 talks about topic {i * 7} in detail here, naïve café ünïcode."
        for i in range(30)
    ]
    fp = dedup.fingerprint("Same", body)
    assert fp.exact == "d4df3d0b60709331e83c81860d3405b99fb1227a3d2a4767274e8951aa25e5ae"
    assert _sha(fp.signature) == "bea8d4b644cfde59c829dfbb280d82805afbe8ceb0d67e7f303a3a5c74411a09"
    assert len(fp.shingles) == 2416
    assert _sha(fp.shingles) == "4b3f684522fd0b4e2302630115b7483ee873118560ddb7963090e868ad83acf1"
    cjk = dedup.fingerprint("CJK", ["東京で会議が開かれた。 Tokyo meeting 日本語のテキスト"])
    assert len(cjk.shingles) == 128
    assert _sha(cjk.signature) == "5d32741d40f54dfc4aa598bed81addace475f8367cc6b321e5b0d302129349e8"


def test_shingles_are_sorted_and_distinct_like_numpy_unique() -> None:
    import numpy as np

    words = ["a", "b", "c", "d", "e"] * 20 + ["x"]
    array = dedup._shingle_array(words)
    ids = np.array(dedup._word_ids(words), dtype=np.uint64)
    assert np.array_equal(array, np.unique(dedup._combine(ids, 5)))
    assert list(dedup._sorted_distinct(np.array([3, 1, 3, 2, 1], dtype=np.uint64))) == [1, 2, 3]
    assert len(dedup._sorted_distinct(np.zeros(0, dtype=np.uint64))) == 0
    assert len(dedup._shingle_array(["one", "two"])) == 1  # shorter than a shingle: one
    assert len(dedup.fingerprint("T", []).signature) == 0
