"""Suggested next version names."""
from dokani.policies.names import suggest_next_name


def test_increments_trailing_number():
    assert suggest_next_name(["v1", "v2", "v3"], "v3") == "v4"


def test_continues_after_the_highest_number_with_the_same_prefix():
    # Drafting from an old version must not suggest a name that is already taken.
    assert suggest_next_name(["v1", "v2", "v3"], "v1") == "v4"


def test_dotted_versions_bump_the_last_part():
    assert suggest_next_name(["2.0", "2.1"], "2.1") == "2.2"


def test_zero_padding_is_kept():
    assert suggest_next_name(["release-09"], "release-09") == "release-10"
    assert suggest_next_name(["r007"], "r007") == "r008"


def test_name_without_number_gets_one():
    assert suggest_next_name(["Holiday"], "Holiday") == "Holiday v2"


def test_case_insensitive_uniqueness():
    assert suggest_next_name(["V2", "v1"], "v1") not in {"v2", "V2"}


def test_empty_business():
    assert suggest_next_name([], None) == "v1"


def test_suffix_after_the_number_is_kept():
    assert suggest_next_name(["v1.0", "v1.1", "v1.2-draft"], "v1.1") == "v1.2"
    assert suggest_next_name(["v1.0", "v1.1", "v1.2-draft"], "v1.2-draft") == "v1.3-draft"
