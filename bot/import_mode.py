"""Whether an import pairs in a second process: the user's ``--parallel/--no-parallel``, or
an automatic choice from the export's size and the machine's spare CPU.

The child-process reader (:mod:`bot.import_reader`) makes a big import about 1.4x faster
when a CPU core is free and slower when none is (it then competes with whatever keeps
the cores busy, a live bot included); for a small export the fork and the second read
cost more than they save. :func:`choose_reader` is the pure decision; :func:`machine`
and :func:`export_bytes` read what it decides from.
"""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["AUTO_MIN_BYTES", "Machine", "ReaderChoice", "choose_reader", "export_bytes", "machine"]

AUTO_MIN_BYTES: Final = 8 * 2**20  # about 24,000 Telegram messages (measured break-even: ~10,000)
_SPARE_CORE: Final = 1.0  # an idle core's worth of CPU, by the one-minute load average


@dataclass(frozen=True, slots=True)
class Machine:
    """What the automatic choice reads of this machine."""

    cpus: int  # CPUs this process may run on
    load: float | None  # one-minute load average (None where the OS has none)
    fork: bool  # whether a child process can be forked


@dataclass(frozen=True, slots=True)
class ReaderChoice:
    """The choice and why, in words a user reads in the import summary."""

    parallel: bool
    why: str


def choose_reader(requested: bool | None, size: int, host: Machine) -> ReaderChoice:
    """``requested`` (the flag) wins; unset, pair in a second process only for an export
    of at least :data:`AUTO_MIN_BYTES` on a machine that can fork and has a core to spare
    (CPUs minus the load average at least one)."""
    if requested is not None:
        flag = "--parallel" if requested else "--no-parallel"
        return ReaderChoice(requested, f"{flag} given")
    mib = size / 2**20
    if size < AUTO_MIN_BYTES:
        return ReaderChoice(
            False, f"auto: a {mib:.1f} MiB export is under {AUTO_MIN_BYTES // 2**20} MiB"
        )
    if not host.fork:
        return ReaderChoice(False, "auto: this system cannot fork a reader process")
    if host.cpus < 2:
        return ReaderChoice(False, "auto: one CPU")
    if host.load is None:
        return ReaderChoice(False, "auto: no load average to tell a free CPU core by")
    spare = host.cpus - host.load
    busy = f"{host.cpus} CPUs, load {host.load:.2f}"
    if spare < _SPARE_CORE:
        return ReaderChoice(False, f"auto: no free CPU core ({busy})")
    return ReaderChoice(True, f"auto: a {mib:.0f} MiB export and a free CPU core ({busy})")


def machine() -> Machine:
    """This machine as :func:`choose_reader` sees it."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    try:
        load: float | None = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - Windows
        load = None
    return Machine(cpus, load, "fork" in multiprocessing.get_all_start_methods())


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
