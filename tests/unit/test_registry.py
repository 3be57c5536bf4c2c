import pytest

from os1 import Settings
from os1.config import cpu_has_amx
from os1.errors import ConfigError
from os1.models.llamacpp import LlamaCppModel
from os1.models.registry import EchoChoice, EmbeddedChoice, OpenAIChoice, build, parse, statuses


def test_parse_names(settings: Settings) -> None:
    assert isinstance(parse("echo", settings), EchoChoice)
    assert parse("default", settings).weights.name == "default"  # type: ignore[union-attr]
    assert parse("tiny", settings).weights.name == "tiny"  # type: ignore[union-attr]
    o = parse("openai:llama3.2@http://10.0.0.5:11434/v1", settings)
    assert o == OpenAIChoice("openai", "llama3.2", "http://10.0.0.5:11434/v1")
    assert parse("openai:gpt-4o-mini", settings).base_url == settings.openai_base_url  # type: ignore[union-attr]
    g = parse("gguf:/models/x.gguf", settings)
    assert isinstance(g, EmbeddedChoice) and str(g.path) == "/models/x.gguf"


@pytest.mark.parametrize("bad", ["gpt", "openai:", "", "llama"])
def test_unknown_names_say_what_exists(settings: Settings, bad: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse(bad, settings)
    assert "default" in str(e.value)


def test_statuses_list_every_builtin(settings: Settings) -> None:
    names = [s.name for s in statuses(settings)]
    assert names[:3] == ["default", "tiny", "echo"] and names[3].startswith("openai:")


def test_api_key_comes_from_env_then_keys_file_and_is_never_shown(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    s = Settings(home=tmp_path)
    assert s.api_key() is None
    s.keys_file.write_text('openai_api_key = "sk-file"\n')
    assert s.api_key() == "sk-file"
    monkeypatch.setenv("OS1_OPENAI_API_KEY", "sk-env")
    s2 = Settings(home=tmp_path)
    assert s2.api_key() == "sk-env"
    assert "sk-env" not in repr(s2) and "sk-env" not in str(s2.model_dump())


def test_amx_detection_reads_cpu_flags(tmp_path) -> None:
    f = tmp_path / "cpuinfo"
    f.write_text("processor: 0\nflags\t\t: fpu avx2 amx_tile amx_int8\n")
    assert cpu_has_amx(f)
    f.write_text("processor: 0\nflags\t\t: fpu avx2 avx512f\n")
    assert not cpu_has_amx(f)
    assert not cpu_has_amx(tmp_path / "missing")


def test_extra_buffer_types_are_off_unless_asked(monkeypatch) -> None:
    assert Settings().extra_bufts is False
    monkeypatch.setenv("OS1_EXTRA_BUFTS", "1")
    assert Settings().extra_bufts is True


async def test_a_model_that_cannot_be_set_up_still_lets_os1_start(tmp_path) -> None:
    from os1.errors import ModelUnavailable
    from os1.runtime import open_runtime

    rt = open_runtime(Settings(home=tmp_path, model="default", models_dir_override=tmp_path / "nothing"))
    try:
        with pytest.raises(ModelUnavailable, match="not been assembled"):
            await rt.model.load()
        # A person in crisis is still answered (the reviewed fallback), and the exchange is kept.
        events = [e async for e in rt.companion.reply("local", "I want to end my life")]
        assert "988" in events[-1].text  # type: ignore[attr-defined]
        assert await rt.store.count("local") == 2
    finally:
        await rt.aclose()


def test_llama_settings_reach_the_model(tmp_path, monkeypatch) -> None:
    gguf = tmp_path / "x.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setenv("OS1_PREFILL_CHUNK", "16")
    monkeypatch.setenv("OS1_BATCH_THREADS", "2")
    model = build(parse(f"gguf:{gguf}", Settings(home=tmp_path)), Settings(home=tmp_path))
    assert isinstance(model, LlamaCppModel)
    assert model.prefill_chunk == 16 and model.batch_threads == 2


@pytest.mark.parametrize("threads", [1, 2])
async def test_opening_the_runtime_caps_numpys_blas_threads(tmp_path, threads: int) -> None:
    """OpenBLAS's idle workers spin beside llama.cpp: the runtime sets how many there are (OS1_BLAS_THREADS)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from os1.runtime import open_runtime

    with threadpool_limits(limits=None):  # put back whatever this process had afterwards
        rt = open_runtime(Settings(home=tmp_path, model="echo", embeddings=False, blas_threads=threads))
        try:
            blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
            assert blas and all(lib["num_threads"] == threads for lib in blas)
        finally:
            await rt.aclose()
