"""Run every benchmark in turn (`make bench`); each writes bench/out/NAME.json and its RESULTS.md section."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = ["turn_overhead.py", "model_bench.py", "llama_settings.py", "emotion_bench.py", "retrieval_bench.py", "voice_bench.py", "safety_bench.py", "injection_bench.py"]

if __name__ == "__main__":
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        subprocess.run([sys.executable, str(HERE / script), *sys.argv[1:]], check=True)
