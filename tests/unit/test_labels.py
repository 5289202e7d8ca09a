"""Codes are said in words: every code of the vocabulary, and codes it does not know yet."""
from dokani.labels import VOCABULARY, say


def test_every_known_code_reads_as_words():
    for kind, codes in VOCABULARY.items():
        for code, label in codes.items():
            assert say(kind, code) == label
            assert "_" not in label and label[:1].isupper(), (kind, code, label)


def test_an_unknown_code_is_shown_in_words_not_snake_case():
    assert say("audit", "policy.something_new") == "Policy something new"
    assert say("violation", "missing_evidence:receipt_photo") == "Missing evidence: receipt photo"
    assert say("status", None) == "—" and say("recommendation", "", empty="Not triaged") == "Not triaged"
