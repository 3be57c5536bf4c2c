"""Choosing a chat model by name: `default`, `tiny`, `echo`, `openai:NAME[@URL]`, `gguf:/path`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..config import Settings
from ..errors import ConfigError, ModelError
from . import weights
from .base import ChatModel
from .echo import EchoModel
from .llamacpp import LlamaCppModel


@dataclass(frozen=True, slots=True)
class EmbeddedChoice:
    kind: Literal["embedded"]
    name: str
    weights: weights.GGUFWeights | None
    path: Path | None = None


@dataclass(frozen=True, slots=True)
class OpenAIChoice:
    kind: Literal["openai"]
    model: str
    base_url: str


@dataclass(frozen=True, slots=True)
class EchoChoice:
    kind: Literal["echo"]


ModelChoice = EmbeddedChoice | OpenAIChoice | EchoChoice

BUILTIN: dict[str, str] = {
    "default": "Qwen2.5-Coder-1.5B-Instruct Q4_K_M via llama.cpp (embedded, offline)",
    "tiny": "SmolLM2-135M-Instruct Q4_1 via llama.cpp: fast, for tests and weak machines; replies are often incoherent",
    "echo": "replies with exactly the prompt it received, to see what OS1 sends a model",
}


def parse(spec: str, settings: Settings) -> ModelChoice:
    """Turn a model name into a backend choice, or raise ConfigError saying what names exist."""
    spec = spec.strip()
    if spec == "default":
        return EmbeddedChoice("embedded", "default", weights.QWEN_1_5B)
    if spec == "tiny":
        return EmbeddedChoice("embedded", "tiny", weights.SMOLLM2_135M)
    if spec == "echo":
        return EchoChoice("echo")
    if spec.startswith("gguf:"):
        path = Path(spec[5:]).expanduser()
        return EmbeddedChoice("embedded", spec, None, path)
    if spec.startswith("openai:"):
        rest = spec[7:]
        model, _, url = rest.partition("@")
        if not model:
            raise ConfigError("An OpenAI-compatible model needs a name: openai:NAME[@BASE_URL].",
                              hint="For example openai:llama3.2, or use default, tiny or echo.")
        return OpenAIChoice("openai", model, url or settings.openai_base_url)
    raise ConfigError(
        f"Unknown model {spec!r}.",
        hint="Use default, tiny, echo, openai:NAME[@BASE_URL] or gguf:/path/to/model.gguf (see `os1 models`).",
    )


def build(choice: ModelChoice, settings: Settings) -> ChatModel:
    """Construct (not load) the model for a choice. Weights are verified here, before any load."""
    if isinstance(choice, EchoChoice):
        return EchoModel()
    if isinstance(choice, OpenAIChoice):
        from .pool import openai_pool

        # A pool even for one server: per-server in-flight cap with a bounded wait, first-token and between-token
        # timeouts; several comma-separated base URLs share the load and fail over (os1/models/pool.py).
        return openai_pool(choice.model, choice.base_url, api_key=settings.api_key(), timeout=settings.openai_timeout,
                           max_in_flight=settings.model_max_in_flight, queue_seconds=settings.turn_wait_seconds,
                           first_token_seconds=settings.model_first_token_seconds,
                           token_seconds=settings.model_token_seconds)
    if choice.weights is not None:
        path = weights.locate(choice.weights, settings.models_dir)
    else:
        assert choice.path is not None
        if not choice.path.is_file():
            raise ModelError(f"No GGUF file at {choice.path}.")
        path = choice.path
    return LlamaCppModel(
        path, model_id=choice.name, n_ctx=settings.n_ctx, threads=settings.threads,
        batch_threads=settings.batch_threads, extra_bufts=settings.extra_bufts, prefill_chunk=settings.prefill_chunk,
        quick_start_tokens=settings.quick_start_tokens,
    )


def resolve(spec: str, settings: Settings) -> ChatModel:
    return build(parse(spec, settings), settings)


@dataclass(frozen=True, slots=True)
class ModelStatus:
    name: str
    description: str
    ready: bool
    detail: str


def statuses(settings: Settings) -> list[ModelStatus]:
    """Each built-in model and whether it is ready to use, without loading any."""
    out = []
    for name, desc in BUILTIN.items():
        ready, detail = True, "ready"
        choice = parse(name, settings)
        if isinstance(choice, EmbeddedChoice) and choice.weights is not None:
            w = choice.weights
            try:
                import llama_cpp  # noqa: F401
            except ImportError:
                ready, detail = False, "llama-cpp-python is not installed (run `make run`)"
            if ready:
                try:
                    if len(w.packages) > 1:
                        dest = settings.models_dir / w.filename
                        if not dest.is_file():
                            weights.part_paths(w)
                            ready, detail = False, "packages installed; run `os1 models prepare` to assemble"
                        elif weights.is_verified(dest, w):
                            detail = f"ready ({dest})"
                        else:
                            detail = f"assembled at {dest}; not yet verified (verified on first load)"
                    else:
                        detail = f"ready ({weights.part_paths(w)[0]})"
                except ModelError as e:
                    ready, detail = False, e.message
        out.append(ModelStatus(name, desc, ready, detail))
    out.append(ModelStatus("openai:NAME[@URL]", "any OpenAI-compatible server (Ollama, vLLM, LM Studio, OpenAI)",
                           True, f"base URL default {settings.openai_base_url}; key {'set' if _has_key(settings) else 'not set'}"))
    return out


def _has_key(settings: Settings) -> bool:
    try:
        return settings.api_key() is not None
    except ConfigError:
        return False
