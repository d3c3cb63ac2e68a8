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
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.cli.registry import COMMANDS  # noqa: E402  (light: no command module is imported)

_RUN = "import sys; sys.argv = ['fanqa', *sys.argv[1:]]; from bot.cli import main; main()"


def _median_seconds(argv: list[str], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of ``runs`` fresh processes.

    CPU time is the steadier figure on a shared machine: waiting for a core does not count.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="Runs per case (median kept).")
    args = parser.parse_args()
    bare, bare_cpu = _median_seconds([sys.executable, "-c", "pass"], args.runs)
    cases = {"--help": ["--help"]} | {f"{name} --help": [name, "--help"] for name in COMMANDS}
    results = {}
    for label, cli_args in cases.items():
        seconds, cpu = _median_seconds([sys.executable, "-c", _RUN, *cli_args], args.runs)
        results[label] = {
            "median_s": round(seconds, 3),
            "over_bare_s": round(seconds - bare, 3),
            "cpu_s": round(cpu, 3),
        }
    worst = max(float(v["median_s"]) for k, v in results.items() if k != "--help")
    report = {
        "python": sys.version.split()[0],
        "runs": args.runs,
        "bare_python_s": round(bare, 3),
        "bare_python_cpu_s": round(bare_cpu, 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cases": results,
        "goals": {
            "help_within_0.5s_of_bare": results["--help"]["over_bare_s"] <= 0.5,
            "every_command_within_1s": worst <= 1.0,
        },
        "slowest_command_s": round(worst, 3),
        "slowest_command_cpu_s": max(v["cpu_s"] for k, v in results.items() if k != "--help"),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
