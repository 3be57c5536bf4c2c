"""Voice-to-voice latency: from the end of the user's speech to the first sample of OS1's spoken reply.

The default embedded stack (Qwen2.5-Coder-1.5B through llama.cpp, Whisper base int8, Silero VAD, the
Piper voice) runs a real conversation: each utterance (synthesized by Piper, with silence around it)
is fed to a VoiceSession in real time, 32 ms at a time, as a microphone would. Measured per turn: the
wall time from feeding the last speech sample to the first reply chunk reaching the playback, and its
stages (VAD tail, STT left after the end of turn, the model's first clause, TTS of that clause).
Baseline in the same run: the same utterances transcribed with Whisper's full 30-second window.

    .venv/bin/python bench/voice_bench.py [--turns 22] [--warmup 2] [--baseline] [--full-replies] [--learn] [--dry-run]

A line that gets no spoken reply (nothing heard, a problem, or no answer within TURN_PATIENCE_S) is printed and
left out of the table, and the run goes on.

`--baseline` first runs the same turns with the reply written only once the turn is confirmed
(`write_ahead=False`), in a child process of its own; `--learn` keeps background learning on (fact
extraction with the same model between turns, as in real use); `--dry-run` prints the table without
writing bench/out/ or RESULTS.md (with --turns 2 --warmup 0, a smoke run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import median, pct, write  # noqa: E402

from os1.config import Settings  # noqa: E402
from os1.runtime import open_runtime  # noqa: E402
from os1.voice import AudioClip, ClockedPlayback, SessionOptions, VoiceSession, open_voice  # noqa: E402
from os1.voice.audio import to_speech_rate  # noqa: E402
from os1.voice.events import (  # noqa: E402
    Backchannel,
    NothingHeard,
    Speaking,
    TurnDone,
    VoiceEvent,
    VoiceProblem,
    voice_event_dict,
)
from os1.voice.whisper import WhisperOptions, WhisperTranscriber  # noqa: E402

LINES = [
    "Hi, I'm Theo.", "I write letters for other people, for a living.", "My sister lives in Ohio.",
    "I had a long day at work today.", "My boss asked me to redo a whole project.", "I'm a bit tired, honestly.",
    "Do you like music?", "I went for a walk by the river this morning.", "What should I cook tonight?",
    "I've been thinking about learning the piano.", "My friend Amy is getting married in June.",
    "Do you ever get bored?", "I can't decide whether to move to Denver.", "The weather has been lovely lately.",
    "I finished the book you told me about.", "Tell me something that made you laugh.",
    "I miss my grandmother sometimes.", "Work is stressful but I'm managing.", "What do you do while I sleep?",
    "I'm going to the beach this weekend.", "Thanks for listening to me.", "Do you remember my sister's name?",
    "I started running again.", "Good night, talk tomorrow.", "I think I'll make pasta.",
]
SPEECH_LEVEL = 0.02
TURN_PATIENCE_S = 60.0
"""Audio fed after a line with no answer before the bench reports the turn as stuck and goes on."""


def _answered(events: list[VoiceEvent]) -> bool:
    """The line got its answer: a finished turn, or a reason there will be none."""
    return any(isinstance(e, TurnDone | NothingHeard | VoiceProblem | Backchannel) for e in events)


async def speak(synth: object, text: str) -> np.ndarray:
    chunks = [c async for c in synth.synthesize(text)]  # type: ignore[attr-defined]
    return to_speech_rate(AudioClip(np.concatenate([c.samples for c in chunks]), chunks[0].sample_rate)).samples


async def run(turns: int, warmup: int, full_replies: bool, learn: bool = False,
              foresee: float | None = SessionOptions().foresee_every_s, write_ahead: bool = True) -> dict[str, object]:
    home = Path(tempfile.mkdtemp(prefix="os1-voice-bench-"))
    settings = Settings(home=home)
    settings = settings.model_copy(update={"models_dir_override": Settings().models_dir})
    rt = open_runtime(settings)
    # Background learning (fact extraction with the same model) runs between turns and can hold llama.cpp
    # when the next turn starts; as in turn_overhead.py, it is off here so the reply path alone is timed.
    rt.companion.config = replace(rt.companion.config, learn=learn)
    stack = open_voice(settings)
    await rt.model.load()
    await asyncio.to_thread(stack.load)
    texts = [LINES[i % len(LINES)] for i in range(turns + warmup)]
    clips = [await speak(stack.synthesizer, t) for t in texts]

    playback = ClockedPlayback()
    session = VoiceSession(rt.companion, settings.user, transcriber=stack.transcriber, synthesizer=stack.synthesizer,
                           vad=stack.vad(), playback=playback,
                           options=SessionOptions(foresee_every_s=foresee, write_ahead=write_ahead))
    marks: list[dict[str, float]] = []
    answered: dict[int, TurnDone] = {}
    """Each line's turn, by the line's index in `marks`."""
    seen: list[VoiceEvent] = []

    async def mic() -> AsyncIterator[np.ndarray]:
        t0 = time.perf_counter()
        fed = 0

        async def feed(samples: np.ndarray) -> AsyncIterator[np.ndarray]:
            nonlocal fed
            for i in range(0, len(samples), 512):
                block = samples[i:i + 512]
                fed += len(block)
                delay = t0 + fed / 16_000 - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                yield block

        for clip in clips:
            last = int(np.flatnonzero(np.abs(clip) > SPEECH_LEVEL)[-1])
            seen_before = len(seen)
            async for b in feed(np.concatenate([np.zeros(4800, np.float32), clip[:last + 1]])):
                yield b
            mark = {"speech_end": time.perf_counter()}
            marks.append(mark)
            logging.getLogger("os1.voice").debug("speech ends (%s)", texts[len(marks) - 1])
            async for b in feed(clip[last + 1:]):
                yield b
            waited = 0
            while not _answered(seen[seen_before:]):
                async for b in feed(np.zeros(512, np.float32)):
                    yield b
                waited += 512
                if waited > TURN_PATIENCE_S * 16_000:
                    # Reported, not waited for forever: the run goes on with the next line.
                    print(f"turn {len(marks)}: no answer {TURN_PATIENCE_S:.0f} s after the speech ended "
                          f"({texts[len(marks) - 1]!r})", flush=True)
                    break
                if "first_audio" in mark and not full_replies and playback.position() > 1.0:
                    # Latency is measured; don't wait for a 300-token reply on 2 busy cores: cut it off
                    # a second in, as a listener would. (The next prompt re-evaluates that short stored reply.)
                    session.interrupt()
            playback.drain()  # the listener heard it all; the next line follows

    async for event in session.run(mic()):
        seen.append(event)
        if isinstance(event, TurnDone) and marks:
            answered.setdefault(len(marks) - 1, event)
        if isinstance(event, NothingHeard | VoiceProblem | Backchannel):
            print(f"turn {len(marks)}: {voice_event_dict(event)}", flush=True)
        if isinstance(event, TurnDone):
            print(f"turn {len(marks)}: " + ", ".join(f"{k} {v:.0f}" for k, v in event.timings.items()), flush=True)
        if isinstance(event, Speaking) and event.seq == 0 and marks and "first_audio" not in marks[-1]:
            marks[-1]["first_audio"] = time.perf_counter()
    rows = []
    for i, mark in enumerate(marks[warmup:], start=warmup):  # a line with no reply (nothing heard, a problem) has no row
        if "first_audio" in mark and i in answered:
            rows.append({"v2v": 1000 * (mark["first_audio"] - mark["speech_end"]), **answered[i].timings})
    if len(rows) < len(marks[warmup:]):
        print(f"{len(marks[warmup:]) - len(rows)} of {len(marks[warmup:])} lines got no spoken reply", flush=True)

    # Baseline: Whisper with its full 30-second window, on the same utterances.
    full = WhisperTranscriber(stack.transcriber.model_dir, WhisperOptions(fitted_window=False, threads=settings.stt_threads))  # type: ignore[attr-defined]
    fitted_ms: list[float] = []
    full_ms: list[float] = []
    for clip in clips[warmup:warmup + 10]:
        for t, out in ((stack.transcriber, fitted_ms), (full, full_ms)):
            start = time.perf_counter()
            await t.transcribe(AudioClip(clip, 16_000))
            out.append(1000 * (time.perf_counter() - start))
    anticipations = dict(getattr(rt.model, "anticipations", {}))
    anticipations["rehearsed"] = session.synthesizer.used
    await rt.aclose()
    return {"rows": rows, "stt_fitted_ms": fitted_ms, "stt_full_ms": full_ms, "model": rt.model.model_id,
            "voice": stack.synthesizer.voice.id, "full_replies": full_replies, "learn": learn, "foresee": foresee,
            "write_ahead": write_ahead, "anticipations": anticipations}


def _baseline_in_own_process(args: argparse.Namespace) -> dict[str, object]:
    """The same turns without writing during the pause, run first in a child process: a second run in one process
    was consistently slower (what the first left behind), which would favour whichever configuration runs first."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "baseline.json"
        cmd = [sys.executable, __file__, "--turns", str(args.turns), "--warmup", str(args.warmup), "--no-write-ahead",
               "--foresee", str(args.foresee or 0), "--dump", str(out)]
        cmd += ["--full-replies"] if args.full_replies else []
        cmd += ["--learn"] if args.learn else []
        subprocess.run(cmd, check=True)
        return dict(json.loads(out.read_text()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--turns", type=int, default=22)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--full-replies", action="store_true", help="let every reply finish (slow) instead of cutting it off after the first audio")
    ap.add_argument("--learn", action="store_true", help="keep background learning on between turns (as in real use)")
    ap.add_argument("--dry-run", action="store_true", help="print the table; write nothing (a smoke run with --turns 2 --warmup 0)")
    ap.add_argument("--foresee", type=float, default=SessionOptions().foresee_every_s,
                    help="seconds between looks at the words so far while the user talks (0: only at the pause)")
    ap.add_argument("--baseline", action="store_true",
                    help="first run the same turns without writing the reply during the end-of-turn pause (same machine, same run)")
    ap.add_argument("--no-write-ahead", action="store_true", help="don't write the reply during the end-of-turn pause")
    ap.add_argument("--trace", action="store_true", help="log each model evaluation and voice step to stderr")
    ap.add_argument("--dump", help=argparse.SUPPRESS)  # the baseline's child process: write the run's data here
    args = ap.parse_args()
    if args.trace:
        logging.basicConfig(format="%(relativeCreated)9.0f %(name)s: %(message)s")
        for name in ("os1.models", "os1.voice", "os1.companion"):
            logging.getLogger(name).setLevel(logging.DEBUG)
    foresee = args.foresee or None
    base = _baseline_in_own_process(args) if args.baseline else None
    data = asyncio.run(run(args.turns, args.warmup, args.full_replies, args.learn, foresee, not args.no_write_ahead))
    if args.dump:
        Path(args.dump).write_text(json.dumps(data))
        return
    if base is not None:
        data["baseline"] = base
    rows: list[dict[str, float]] = data["rows"]  # type: ignore[assignment]
    stages = ["vad_tail", "stt", "first_clause", "tts_first"]
    v2v = [r["v2v"] for r in rows]
    lines = [f"Voice-to-voice latency over {len(rows)} turns fed in real time ({data['model']}, {data['voice']}, "
             "Whisper base int8, Silero VAD; end of speech → first reply audio). Target p50 ≤ 800 ms. "
             + ("Every reply played to the end." if data["full_replies"] else
                "Each reply cut off by the listener after its first audio (as a barge-in) to keep the run short.")
             + (" Background learning on between turns." if data["learn"] else " Background learning off.")
             + (f" Notes evaluated while the user talks, from the words heard every {data['foresee']} s."
                if data["foresee"] else " Prompt evaluated from the end-of-turn pause only.")
             + (" Reply written during the end-of-turn pause and taken over by the turn in "
                f"{data['anticipations'].get('taken', 0)} of {data['anticipations'].get('started', 0)} pauses; "  # type: ignore[attr-defined]
                f"its first clause was already synthesized in {data['anticipations'].get('rehearsed', 0)} turns."  # type: ignore[attr-defined]
                if data["write_ahead"] else " Reply written only once the turn is confirmed."), "",
             "| measure | p50 ms | p95 ms | share of p50 |", "|---|---|---|---|",
             f"| **voice to voice** | **{median(v2v):.0f}** | **{pct(v2v, 95):.0f}** | |"]
    total = sum(median([r.get(s, 0.0) for r in rows]) for s in stages) or 1.0
    for s in stages:
        vals = [r.get(s, 0.0) for r in rows]
        lines.append(f"| {s} | {median(vals):.0f} | {pct(vals, 95):.0f} | {median(vals) / total:.0%} |")
    first_token = [r.get("first_token", r.get("first_clause", 0.0)) for r in rows]
    lines += ["", f"Of first_clause: the turn up to the model's first word (perceive, recall, prompt evaluation) p50 "
              f"{median(first_token):.0f} ms, p95 {pct(first_token, 95):.0f} ms; the rest is writing the first piece."]
    if base is not None:
        b_rows: list[dict[str, float]] = base["rows"]  # type: ignore[assignment]
        b_v2v = [r["v2v"] for r in b_rows]
        b_first = [r.get("first_token", r.get("first_clause", 0.0)) for r in b_rows]
        lines += ["", "Baseline in the same run (the same turns, the reply written only once the turn is confirmed, "
                  f"`write_ahead=False`): voice to voice p50 {median(b_v2v):.0f} / p95 {pct(b_v2v, 95):.0f} ms, first "
                  f"word p50 {median(b_first):.0f} / p95 {pct(b_first, 95):.0f} ms; writing during the pause: "
                  f"×{median(b_v2v) / max(median(v2v), 1):.2f} faster at p50."]
    fit, full = data["stt_fitted_ms"], data["stt_full_ms"]
    lines += ["", f"STT alone on the same utterances: fitted window p50 {median(fit):.0f} ms vs Whisper's full 30 s "  # type: ignore[arg-type]
              f"window {median(full):.0f} ms (×{median(full) / max(median(fit), 1):.1f}).",  # type: ignore[arg-type]
              "stt = what was left of speech-to-text after the end of turn (it starts speculatively at the first "
              "silent frame); vad_tail = the hangover that decides the turn is over."]
    if args.dry_run:
        print("\n".join(lines))
    else:
        write("voice", data, "\n".join(lines))


if __name__ == "__main__":
    main()
