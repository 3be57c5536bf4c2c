"""`os1 talk`: speak with OS1 through the microphone and speaker, or through audio files."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from .cli_common import ModelOpt, _fail, _settings, err, out
from .config import Settings
from .errors import OS1Error, VoiceError
from .runtime import Runtime, open_runtime
from .types import Recalled, ReplyDone, SafetyNotice, TextDelta
from .voice import SAMPLE_RATE, AudioClip, ClockedPlayback, SessionOptions, VoiceSession, VoiceStack, open_voice
from .voice.events import Backchannel, Heard, Interrupted, NothingHeard, Replying, SpeechStarted, TurnDone, VoiceProblem
from .wire import TurnResult

SPEECH_PAD_S = 0.3
"""Audio kept around the speech found in a file (whole words, not clipped at the edges)."""


def _fail_voice(e: OS1Error, *, as_json: bool = False) -> NoReturn:
    if isinstance(e, VoiceError) and as_json:
        print(json.dumps({"error": {"type": type(e).__name__, "message": e.message, "hint": e.hint}}))
        raise typer.Exit(2)
    if isinstance(e, VoiceError):
        err.print(f"[bold red]Error:[/] {escape(e.message)}" + (f"\n  [dim]→ {escape(e.hint)}[/]" if e.hint else ""))
        raise typer.Exit(2)
    _fail(e, as_json=as_json)


def talk(
    in_file: Annotated[Path | None, typer.Option("--in", help="Answer this recording (WAV, FLAC, OGG, MP3; any rate) instead of the microphone.", show_default=False)] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="With --in: write the spoken reply here (16-bit WAV).", show_default=False)] = None,
    voice: Annotated[str | None, typer.Option("--voice", help="Voice id (see --voices); env OS1_VOICE.")] = None,
    voices: Annotated[bool, typer.Option("--voices", help="List the voices installed here and exit.")] = False,
    barge_in: Annotated[bool, typer.Option("--barge-in/--no-barge-in", help="Live: let your voice interrupt OS1. Needs headphones: the terminal has no echo cancellation.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --in: print what was heard, the reply and the timings as JSON.")] = False,
    model: ModelOpt = None,
) -> None:
    """Talk with OS1 out loud: live through the microphone, or one turn from a file (--in/--out)."""
    settings = _settings(model, as_json=as_json)
    if voices:
        _list_voices(settings)
        return
    if out_file is not None and in_file is None:
        _fail_voice(VoiceError("--out needs --in.", hint="`os1 talk --in question.wav --out reply.wav`."), as_json=as_json)
    try:
        if in_file is None:
            _check_devices()
        stack = open_voice(settings, voice or settings.voice)
        rt = open_runtime(settings)
    except OS1Error as e:
        _fail_voice(e, as_json=as_json)
    try:
        if in_file is not None:
            asyncio.run(_answer_file(rt, stack, in_file, out_file, as_json))
        else:
            _live(rt, stack, barge_in)
    except OS1Error as e:
        _fail_voice(e, as_json=as_json)
    finally:
        asyncio.run(rt.aclose())


def _list_voices(settings: Settings) -> None:
    from .voice.voices import default_voice_id, list_voices

    chosen = default_voice_id(settings)
    table = Table("voice", "engine", "language", "licence")
    for v in list_voices(settings):
        table.add_row(escape(v.id) + (" *" if v.id == chosen else ""), v.engine, v.language, escape(v.license))
    out.print(table)
    out.print("[dim]* the one in use (OS1_VOICE / --voice). Piper voices: put NAME.onnx + NAME.onnx.json in "
              f"{escape(str(settings.home / 'voices'))} to add one.[/]")


def _check_devices() -> None:
    from .voice.devices import find_devices

    found = find_devices()
    if found.problem:
        raise VoiceError(f"{found.problem} `os1 talk` needs a microphone and a speaker.",
                         hint="Use `os1 talk --in question.wav --out reply.wav`, or voice mode in the browser (`os1 serve`).")


def find_speech(stack: VoiceStack, clip: AudioClip) -> tuple[int, int] | None:
    """(first, last) sample of speech in a 16 kHz clip, padded; None when the VAD hears none."""
    vad = stack.vad()
    n = vad.frame_samples
    frames = len(clip.samples) // n
    speech = [i for i in range(frames) if vad.speech_probability(clip.samples[i * n:(i + 1) * n]) >= 0.5]
    if len(speech) * n / SAMPLE_RATE < 0.1:
        return None
    pad = int(SPEECH_PAD_S * SAMPLE_RATE)
    return max(0, speech[0] * n - pad), min(len(clip.samples), (speech[-1] + 1) * n + pad)


async def _answer_file(rt: Runtime, stack: VoiceStack, path: Path, out_path: Path | None, as_json: bool) -> None:
    from .voice.audio import read_audio, to_speech_rate, write_wav

    clip, report = read_audio(path, max_seconds=rt.settings.max_audio_seconds)
    if report.clipped_fraction > 0.01 and not as_json:
        err.print(f"[yellow]Note: {report.clipped_fraction:.0%} of {escape(path.name)} is clipped (recorded too loud); "
                  "the transcript may be off.[/]")
    speech16 = to_speech_rate(clip)
    span = await asyncio.to_thread(find_speech, stack, speech16)
    if span is None:
        raise VoiceError(f"No speech heard in {path.name} ({clip.duration:.1f} s of silence or noise).",
                         hint="Record a question closer to the microphone, or check the file is the right one.")
    speech16 = AudioClip(speech16.samples[span[0]:span[1]], SAMPLE_RATE)
    playback = ClockedPlayback()
    session = VoiceSession(rt.companion, rt.settings.user, transcriber=stack.transcriber, synthesizer=stack.synthesizer,
                           vad=stack.vad(), playback=playback, options=SessionOptions(barge_in=False))
    result, heard, timings = TurnResult(), None, {}
    problem: OS1Error | None = None
    started = False
    async for event in session.answer(speech16):
        if isinstance(event, Heard) and event.final:
            heard = event.text
            if not as_json:
                err.print(f"[dim]You said:[/] {escape(event.text)}")
        elif isinstance(event, NothingHeard):
            problem = VoiceError(f"I couldn't make out any words in {path.name}.",
                                 hint="Speak clearly and close to the microphone; English works best.")
        elif isinstance(event, VoiceProblem):
            problem = event.error
        elif isinstance(event, TurnDone):
            timings = event.timings
        elif isinstance(event, Replying):
            result.add(event.event)
            if isinstance(event.event, TextDelta) and not as_json:
                started = True
                sys.stdout.write(event.event.text)
                sys.stdout.flush()
    if started:
        print(flush=True)
    if problem is not None:
        raise problem
    playback.drain()
    audio = playback.heard_audio(stack.synthesizer.sample_rate)
    if out_path is not None:
        write_wav(out_path, audio, stack.synthesizer.sample_rate)
    await rt.companion.drain()
    if as_json:
        body: dict[str, Any] = {"heard": heard, **result.as_dict(rt.model.model_id), "voice": stack.synthesizer.voice.id,
                                "out": str(out_path) if out_path else None,
                                "reply_seconds": round(len(audio) / stack.synthesizer.sample_rate, 3),
                                "input_seconds": round(clip.duration, 3), "input_sample_rate": report.original_rate,
                                "input_channels": report.channels, "timings": {k: round(v, 1) for k, v in timings.items()}}
        print(json.dumps(body, ensure_ascii=False), flush=True)
    elif out_path is not None:
        err.print(f"[dim]Reply: {len(audio) / stack.synthesizer.sample_rate:.1f} s in {escape(str(out_path))}[/]")


def _live(rt: Runtime, stack: VoiceStack, barge_in: bool) -> None:
    from .voice.devices import DevicePlayback, microphone

    async def go() -> None:
        with out.status("[dim]Waking up…[/]", spinner="dots"):
            await asyncio.gather(rt.model.load(), asyncio.to_thread(stack.load))
        profile = await rt.companion.profile(rt.settings.user)
        name = escape(profile.companion_name or "OS1")
        out.print(f"[dim]Talking with {name}, voice {escape(stack.synthesizer.voice.id)}. Speak; Ctrl-C leaves."
                  + ("" if barge_in else " (Barge-in is off: use headphones and --barge-in to talk over it.)") + "[/]")
        playback = DevicePlayback()
        session = VoiceSession(rt.companion, rt.settings.user, transcriber=stack.transcriber,
                               synthesizer=stack.synthesizer, vad=stack.vad(), playback=playback,
                               options=SessionOptions(barge_in=barge_in))
        try:
            async for event in session.run(microphone()):
                _show(event, name)
        finally:
            playback.close()

    try:
        asyncio.run(go())
    except KeyboardInterrupt:
        out.print("\n[dim]Bye for now.[/]")


def _show(event: object, name: str) -> None:
    if isinstance(event, SpeechStarted) and not event.while_speaking:
        out.print("[dim]…listening[/]")
    elif isinstance(event, Heard) and event.final:
        out.print(f"[bold cyan]You:[/] {escape(event.text)}")
    elif isinstance(event, Replying):
        e = event.event
        if isinstance(e, Recalled):
            out.print(f"[bold magenta]{name}:[/] ", end="")
        elif isinstance(e, TextDelta):
            out.print(escape(e.text), end="", soft_wrap=True)
        elif isinstance(e, SafetyNotice):
            out.print(f"[yellow]{escape(e.message)}[/]")
            for r in e.resources:
                out.print(f"[yellow]  • {escape(r)}[/]")
        elif isinstance(e, ReplyDone):
            out.print()
    elif isinstance(event, Interrupted):
        out.print("[dim](interrupted)[/]")
    elif isinstance(event, Backchannel):
        out.print(f"[dim]({escape(event.text or 'mm')})[/]")
    elif isinstance(event, VoiceProblem):
        err.print(f"[bold red]Error:[/] {escape(event.error.message)}")


def prepare_whisper_command() -> None:
    """`os1 models prepare whisper`: join and verify the speech-to-text model (no download)."""
    from rich.progress import BarColumn, DownloadColumn, Progress

    from .voice.weights import WHISPER_BASE, prepare_whisper

    settings = _settings()
    settings.ensure_home()
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), console=err) as progress:
        task = progress.add_task("Assembling Whisper base", total=WHISPER_BASE.size)
        try:
            path = prepare_whisper(settings.models_dir, lambda done, total: progress.update(task, completed=done, total=total))
        except OS1Error as e:
            progress.stop()
            _fail_voice(e)
        progress.update(task, completed=WHISPER_BASE.size)
    out.print(f"[green]✓[/] whisper (speech-to-text) ready and verified (sha256 {WHISPER_BASE.sha256[:12]}…): {path}")
