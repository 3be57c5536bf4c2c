"""Shared helpers for benchmarks: percentiles, machine description, JSON and RESULTS.md output."""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
OUT = HERE / "out"
RESULTS = HERE / "RESULTS.md"


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        text = Path("/proc/cpuinfo").read_text()
        m = re.search(r"model name\s*:\s*(.+)", text)
        cpu = m.group(1).strip() if m else cpu
        # "AMD EPYC" has named machines with AMX and machines with only AVX2 here: llama.cpp's prompt speed differs
        # ~15x between them, so the widest vector extension is part of the machine's name.
        f = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
        flags = set(f.group(1).split()) if f else set()
        isa = next((name for flag, name in (("amx_int8", "AMX"), ("avx512_vnni", "AVX-512 VNNI"), ("avx512f", "AVX-512"),
                                            ("avx2", "AVX2")) if flag in flags), "")
        cpu = f"{cpu} ({isa})" if isa else cpu
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=HERE, check=False).stdout.strip()
    except OSError:
        commit = ""
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "commit": commit}


def write(name: str, data: dict[str, Any], table: str) -> None:
    """Save bench/out/NAME.json and replace NAME's section in bench/RESULTS.md."""
    OUT.mkdir(exist_ok=True)
    data = {"machine": machine(), **data}
    (OUT / f"{name}.json").write_text(json.dumps(data, indent=2))
    m = data["machine"]
    section = (f"<!-- bench:{name} -->\n## {name}\n\nMachine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; "
               f"{m['date']}; commit {m['commit']}.\n\n{table.strip()}\n<!-- /bench:{name} -->")
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\nWritten by the scripts in bench/ (JSON in bench/out/, not committed).\n"
    pattern = re.compile(rf"<!-- bench:{name} -->.*?<!-- /bench:{name} -->", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)
    print(table)
