"""Start-up time of the ``fanqa`` CLI against a bare interpreter, as JSON.

Each case runs as a fresh process with the same interpreter (``python -c pass`` is the
baseline; the CLI is run through ``bot.cli.main`` exactly as the console script does), several
times; the median wall time is reported, with the excess over the baseline. The goals
(issue 12): ``fanqa --help`` within 0.5 s of the baseline, every command's ``--help`` (its
start-up: the command's module and what it imports) within 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.cli.registry import COMMANDS  # noqa: E402  (light: no command module is imported)

_RUN = "import sys; sys.argv = ['fanqa', *sys.argv[1:]]; from bot.cli import main; main()"


def _median_seconds(argv: list[str], runs: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="Runs per case (median kept).")
    args = parser.parse_args()
    bare = _median_seconds([sys.executable, "-c", "pass"], args.runs)
    cases = {"--help": ["--help"]} | {f"{name} --help": [name, "--help"] for name in COMMANDS}
    results = {}
    for label, cli_args in cases.items():
        seconds = _median_seconds([sys.executable, "-c", _RUN, *cli_args], args.runs)
        results[label] = {
            "median_s": round(seconds, 3),
            "over_bare_s": round(seconds - bare, 3),
        }
    worst = max(v["median_s"] for k, v in results.items() if k != "--help")
    report = {
        "python": sys.version.split()[0],
        "runs": args.runs,
        "bare_python_s": round(bare, 3),
        "cases": results,
        "goals": {
            "help_within_0.5s_of_bare": results["--help"]["over_bare_s"] <= 0.5,
            "every_command_within_1s": worst <= 1.0,
        },
        "slowest_command_s": round(worst, 3),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
