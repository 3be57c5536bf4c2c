"""llama.cpp settings on this machine: extra buffer types on/off x prompt threads, for the default model.

Prompt tokens/s (400 tokens) and generation tokens/s (32 tokens), median of several loads. This is the
measurement behind OS1's defaults (extra buffer types off; all cores for prompts, cores-1 for generation).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import median, write  # noqa: E402

from os1 import Settings  # noqa: E402
from os1.models import weights  # noqa: E402
from os1.models.llamacpp import _model_params_override  # noqa: E402


def run_once(path: Path, extra: bool, batch_threads: int, threads: int) -> tuple[float, float]:
    from llama_cpp import Llama

    with _model_params_override(use_extra_bufts=extra):
        llm = Llama(model_path=str(path), n_ctx=2048, n_threads=threads, n_threads_batch=batch_threads, verbose=False)
    tokens = llm.tokenize(("The quick brown fox jumps over the lazy dog. " * 60).encode())[:400]
    t0 = time.perf_counter()
    llm.eval(tokens)
    prompt_tps = len(tokens) / (time.perf_counter() - t0)
    llm.reset()
    llm.eval(tokens[:8])
    t0 = time.perf_counter()
    n = 0
    for _ in llm.generate(tokens[:8], temp=0.0, reset=False):
        n += 1
        if n >= 32:
            break
    gen_tps = n / (time.perf_counter() - t0)
    llm.close()
    return prompt_tps, gen_tps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    settings = Settings()
    path = weights.locate(weights.QWEN_1_5B, settings.models_dir)
    rows = ["| extra buffer types | prompt threads | prompt tok/s | generation tok/s (1 thread) |", "|---|---:|---:|---:|"]
    data = {}
    for extra in (False, True):
        for bt in sorted({1, settings.batch_threads}):
            runs = [run_once(path, extra, bt, 1) for _ in range(args.runs)]
            p, g = median([r[0] for r in runs]), median([r[1] for r in runs])
            data[f"extra={extra},batch_threads={bt}"] = {"prompt_tok_s": p, "gen_tok_s": g, "runs": runs}
            rows.append(f"| {'on' if extra else 'off'} | {bt} | {p:.0f} | {g:.1f} |")
    table = "\n".join(rows) + f"\n\nDefault model (Qwen2.5-Coder-1.5B Q4_K_M), median of {args.runs} loads each."
    write("llama_settings", data, table)


if __name__ == "__main__":
    main()
