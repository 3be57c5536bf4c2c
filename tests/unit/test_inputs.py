import pytest

from os1.errors import InputError
from os1.inputs import clean_message, elide_middle


@pytest.mark.parametrize("raw", ["", "   ", "\n\t \r\n", b"", "\x1b[31m\x1b[0m"])
def test_empty_messages_are_refused(raw: str | bytes) -> None:
    with pytest.raises(InputError, match="empty"):
        clean_message(raw, max_chars=100)


def test_too_long_message_names_the_limit() -> None:
    with pytest.raises(InputError) as e:
        clean_message("a" * 1_000_000, max_chars=20_000)
    assert "1,000,000" in e.value.message and "20,000" in e.value.message


def test_invalid_utf8_bytes_are_refused_with_position() -> None:
    with pytest.raises(InputError, match="UTF-8"):
        clean_message(b"hello \xff\xfe world", max_chars=100)


def test_nul_bytes_read_as_binary() -> None:
    with pytest.raises(InputError, match="binary"):
        clean_message("abc\x00def", max_chars=100)


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(InputError):
        clean_message("bad \udcff text", max_chars=100)


def test_control_characters_are_stripped_but_newlines_kept() -> None:
    assert clean_message("\x1b[2Jhi\x07 there\r\nfriend\t!", max_chars=100) == "hi there\nfriend\t!"


def test_unicode_is_normalised_and_kept() -> None:
    assert clean_message("cafe\u0301 😊", max_chars=100) == "café 😊"


def test_elide_middle_keeps_both_ends() -> None:
    text = "START " + "x" * 5000 + " END"
    short, cut = elide_middle(text, 200)
    assert cut and short.startswith("START") and short.endswith("END") and len(short) < 260
    assert elide_middle("short", 200) == ("short", False)
