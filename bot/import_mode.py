"""Whether an import pairs in a second process: the user's ``--parallel/--no-parallel``, or
an automatic choice from the export's size and how idle the machine's CPUs are.

The child-process reader (:mod:`bot.import_reader`) makes a big import about 1.4x faster
when two CPU cores are free for it and slower when they are not (it then competes with
whatever keeps the cores busy, a live bot included); for a small export the fork and the
second read cost more than they save. :func:`choose_reader` is the pure decision;
:func:`machine` and :func:`export_bytes` read what it decides from.

Idle CPU is sampled (a quarter of a second of ``psutil.cpu_percent``), not read from the
load average: the one-minute load lags a finished job by minutes, and on some virtual
machines it sits near 1 while every core is idle.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import psutil

__all__ = ["AUTO_MIN_BYTES", "Machine", "ReaderChoice", "choose_reader", "export_bytes", "machine"]

# Measured break-even on an idle 2-core machine: about 10,000 Telegram messages (3.4 MiB).
AUTO_MIN_BYTES: Final = 8 * 2**20  # about 24,000 Telegram messages
# The reader and the writer each keep a core busy: both must be (nearly) free.
_IDLE_NEEDED: Final = 1.5
_SAMPLE_S: Final = 0.25


@dataclass(frozen=True, slots=True)
class Machine:
    """What the automatic choice reads of this machine."""

    cpus: int  # CPUs this process may run on
    idle: float  # CPUs' worth of idle time in a short sample, at most ``cpus``
    fork: bool  # whether a child process can be forked


@dataclass(frozen=True, slots=True)
class ReaderChoice:
    """The choice and why, in words a user reads in the import summary."""

    parallel: bool
    why: str


def choose_reader(requested: bool | None, size: int, host: Callable[[], Machine]) -> ReaderChoice:
    """``requested`` (the flag) wins; unset, pair in a second process only for an export
    of at least :data:`AUTO_MIN_BYTES` on a machine that can fork and has two cores'
    worth of CPU idle, give or take half a core. ``host`` is asked only then (sampling the
    CPUs takes a quarter of a second)."""
    if requested is not None:
        flag = "--parallel" if requested else "--no-parallel"
        return ReaderChoice(requested, f"{flag} given")
    mib = size / 2**20
    if size < AUTO_MIN_BYTES:
        return ReaderChoice(
            False, f"auto: a {mib:.1f} MiB export is under {AUTO_MIN_BYTES // 2**20} MiB"
        )
    seen = host()
    if not seen.fork:
        return ReaderChoice(False, "auto: this system cannot fork a reader process")
    if seen.cpus < 2:
        return ReaderChoice(False, "auto: one CPU")
    busy = f"{seen.cpus} CPUs, {seen.idle:.1f} idle"
    if seen.idle < _IDLE_NEEDED:
        return ReaderChoice(False, f"auto: not two free CPU cores ({busy})")
    return ReaderChoice(True, f"auto: a {mib:.0f} MiB export and two free CPU cores ({busy})")


def machine() -> Machine:
    """This machine as :func:`choose_reader` sees it (blocks for the CPU sample)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    busy = psutil.cpu_percent(interval=_SAMPLE_S) / 100.0
    idle = min(float(cpus), (psutil.cpu_count() or cpus) * (1.0 - busy))
    return Machine(cpus, idle, "fork" in multiprocessing.get_all_start_methods())


def export_bytes(path: str | Path) -> int:
    """The size of an export: its file, or every JSON file under its folder (0 when it
    cannot be read: the import then says what is wrong with it)."""
    path = Path(path)
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*.json") if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0
