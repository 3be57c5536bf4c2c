import pytest

from os1.persona.meeting import candidate_names, choose_name, detect_companion_rename, detect_user_name


@pytest.mark.parametrize(
    ("text", "expecting", "name"),
    [
        ("Hi, I'm Theo", False, "Theo"),
        ("my name is theodore twombly", False, "Theodore"),
        ("call me Ted", False, "Ted"),
        ("Amy", True, "Amy"),
        ("amy!", True, "Amy"),
        ("it's Catherine", True, "Catherine"),
        ("I’m Zoë", False, "Zoë"),
        ("I'm tired", False, None),
        ("i'm tired today", True, None),
        ("i'm theo", True, "Theo"),
        ("Work is stressful but I'm managing.", True, None),
        ("im managing", True, None),
        ("I'm exhausted", True, None),
        ("I'm from Ohio", False, None),
        ("I am so happy", False, None),
        ("fine", True, None),
        ("What a long day it has been, honestly", True, None),
    ],
)
def test_detect_user_name(text: str, expecting: bool, name: str | None) -> None:
    assert detect_user_name(text, expecting=expecting) == name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Can I call you Sam?", "Sam"),
        ("I'll call you juniper", "Juniper"),
        ("your name is Ava now", "Ava"),
        ("Please name yourself Iris", "Iris"),
        ("I called my mom yesterday", None),
        ("what is your name?", None),
    ],
)
def test_detect_companion_rename(text: str, name: str | None) -> None:
    assert detect_companion_rename(text) == name


def test_choose_name_is_from_the_persona_and_stable_per_seed(tmp_path) -> None:
    assert choose_name("seed-1") == choose_name("seed-1")
    assert choose_name("seed-1") in candidate_names()
    assert len({choose_name(f"seed-{i}") for i in range(50)}) > 3
    persona = tmp_path / "persona.toml"
    persona.write_text('names = ["Quill"]\n')
    assert choose_name("any", persona) == "Quill"
