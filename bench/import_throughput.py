"""Import throughput and peak memory: our streaming importer vs a naive baseline, same run.

Generates Telegram Desktop exports (bench/gen_export.py), then in separate child processes
(so each peak RSS is its own):
- ours: ``fanqa``'s importer (ijson streaming, pairing, batched INSERT … ON CONFLICT), at two
  sizes so you can see whether memory grows with the file; on the large file also with
  implicit linking off, and with ``reader_process`` (the pairing in a child process that
  reads the file too, while the parent reads and writes; its peak RSS is the two processes'
  peaks added);
- naive: whole-file ``json.load`` + one ORM ``session.add`` per message, one commit;
- bound: what parsing plus inserting allow here: ijson (C backend) streams the same file and
  the stdlib ``sqlite3`` ``executemany``-inserts the messages as tuples, no pairing: a slim
  row (five columns) into a table with one unique index;
- bound_schema: the same, but the rows fanqa's import stores (every ``messages`` column, the
  date as stored, a member row per new author) into fanqa's own schema (its indexes and
  foreign keys): the bound for writing *these* rows.
``ours_vs_bound`` is the ratio of message rates on the large file; ``max_chunk_s`` is the
longest write transaction (the lock live writers wait behind).
``--distinct`` makes every text unique (a fund code in each), as in a real chat: the
engine's memo of recent texts then rarely hits, and fewer pairs are duplicates.
Prints JSON. Usage: python bench/import_throughput.py [--messages 1000000] [--baseline 100000]
[--distinct]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _child(kind: str, export: str, db: str, implicit: bool) -> dict[str, float]:
    reader_process = kind == "ours_reader_process"
    kind = "ours" if reader_process else kind
    from storage import make_engine, upgrade

    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    start = time.perf_counter()
    extra: dict[str, float] = {}
    if kind == "bound":
        n, pairs = _bound(export, db), 0
    elif kind == "bound_schema":
        n, pairs = _bound_schema(export, db), 0
    elif kind == "ours":
        from bot.importer import import_export
        from harvest.pairing import PairingConfig

        summary = import_export(
            engine,
            export,
            community="bench",
            pairing=PairingConfig(implicit=implicit),
            reader_process=reader_process,
        )
        n, pairs = summary.messages_added, summary.pairs_added
        extra = {
            "median_chunk_s": summary.median_chunk_seconds,
            "max_chunk_s": summary.max_chunk_seconds,
            "chunks": summary.chunks,
        }
    else:
        from datetime import UTC, datetime

        from sqlmodel import Session

        from storage.models import Chat, Community, Message

        with open(export, encoding="utf-8") as handle:
            data = json.load(handle)
        with Session(engine) as session:
            community = Community(name="bench")
            session.add(community)
            session.flush()
            chat = Chat(community_id=community.id, platform="telegram", external_id="1")
            session.add(chat)
            session.flush()
            n = 0
            for m in data["messages"]:
                text = m.get("text", "")
                if isinstance(text, list):
                    text = "".join(t if isinstance(t, str) else t.get("text", "") for t in text)
                session.add(
                    Message(
                        chat_id=chat.id,
                        platform="telegram",
                        external_id=str(m["id"]),
                        text=text,
                        reply_to_external_id=str(m.get("reply_to_message_id") or "") or None,
                        sent_at=datetime.fromtimestamp(int(m["date_unixtime"]), UTC),
                    )
                )
                n += 1
            session.commit()
        pairs = 0
    seconds = time.perf_counter() - start
    # This process and its largest child (the importer's reader process): their peaks
    # added, an upper bound of the peak together (pages shared since the fork count twice).
    peak_mb = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    ) / 1024
    return {
        "messages": n,
        "pairs": pairs,
        "seconds": round(seconds, 2),
        "messages_per_s": round(n / seconds),
        "peak_rss_mb": round(peak_mb, 1),
        **extra,
    }


def _messages(export: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Each message of a Telegram export, streamed by ijson's C backend, with its text."""
    import ijson

    backend = ijson.get_backend("yajl2_c")
    with open(export, "rb") as handle:
        for m in backend.items(handle, "messages.item", use_float=True):
            text = m.get("text", "")
            if isinstance(text, list):
                text = "".join(t if isinstance(t, str) else t.get("text", "") for t in text)
            yield m, text


def _insert_all(con: sqlite3.Connection, sql: str, rows: Iterable[tuple[Any, ...]]) -> int:
    """``executemany`` ``rows`` 5,000 at a time, a commit each; how many rows there were."""
    n, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) >= 5000:
            con.executemany(sql, batch)
            con.commit()
            n += len(batch)
            batch = []
    con.executemany(sql, batch)
    con.commit()
    con.close()
    return n + len(batch)


def _bound(export: str, db: str) -> int:
    """ijson + sqlite3 executemany of the message rows (chat, id, author, text, reply, date)."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(
        "CREATE TABLE bound_messages (id INTEGER PRIMARY KEY, chat_id INTEGER, external_id TEXT,"
        " author TEXT, text TEXT, reply_to TEXT, sent_at INTEGER, UNIQUE(chat_id, external_id))"
    )
    sql = "INSERT OR IGNORE INTO bound_messages VALUES (NULL, 1, ?, ?, ?, ?, ?)"
    rows = (
        (
            str(m["id"]),
            m.get("from_id"),
            text,
            None if m.get("reply_to_message_id") is None else str(m["reply_to_message_id"]),
            int(m["date_unixtime"]),
        )
        for m, text in _messages(export)
    )
    return _insert_all(con, sql, rows)


def _bound_schema(export: str, db: str) -> int:
    """ijson + sqlite3 executemany of the rows fanqa's import stores for the messages (every
    ``messages`` column, members created as they appear) into fanqa's own schema (its
    indexes and foreign keys), no pairing: what parsing plus inserting *these* rows allow."""
    from datetime import UTC, datetime

    from sqlmodel import Session

    from storage import make_engine
    from storage.models import Chat, Community
    from storage.repo.import_rows import MESSAGE_COLUMNS

    with Session(make_engine(f"sqlite:///{db}")) as session:  # the schema is upgraded
        community = Community(name="bound")
        session.add(community)
        session.flush()
        session.add(Chat(community_id=community.id, platform="telegram", external_id="1"))
        session.commit()
    con = sqlite3.connect(db)
    con.execute("PRAGMA foreign_keys=ON")
    sql = (
        f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) VALUES"
        f" ({', '.join('?' * len(MESSAGE_COLUMNS))}) ON CONFLICT (chat_id, external_id) DO NOTHING"
    )
    member_sql = (
        "INSERT INTO members (community_id, platform, external_id, display_name, role, is_bot)"
        " VALUES (1, 'telegram', ?, ?, 'member', 0)"
    )
    members: dict[str, int | None] = {}

    def member(m: dict[str, Any]) -> int | None:
        author = m.get("from_id") or m.get("actor_id")
        if not author:
            return None
        if author not in members:
            name = m.get("from") or m.get("actor") or ""
            members[author] = con.execute(member_sql, (author, name)).lastrowid
        return members[author]

    rows = (
        (1, "telegram", str(m["id"]), member(m), text,
         None if m.get("reply_to_message_id") is None else str(m["reply_to_message_id"]), None,
         datetime.fromtimestamp(int(m["date_unixtime"]), UTC).isoformat(" ", "microseconds")[:26],
         None, False, False, False, False, None)
        for m, text in _messages(export)
    )  # fmt: skip
    return _insert_all(con, sql, rows)


def _run(kind: str, export: Path, workdir: Path, implicit: bool = True) -> dict[str, float]:
    db = workdir / f"{kind}-{export.stem}-{implicit}.db"
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(export), str(db), str(int(implicit))],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=100_000, help="size for both sides")
    parser.add_argument(
        "--distinct",
        action="store_true",
        help="every text unique, as in a real chat (default: a few dozen templates repeat)",
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, export, db, implicit = args.child
        print(json.dumps(_child(kind, export, db, implicit == "1")))
        return 0
    from bench.gen_export import generate  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        small, large = work / "small.json", work / "large.json"
        generate(small, args.baseline, seed=1, distinct=args.distinct)
        generate(large, args.messages, seed=2, distinct=args.distinct)
        naive = _run("naive", small, work)
        bound = _run("bound", large, work)
        bound_schema = _run("bound_schema", large, work)
        ours_small = _run("ours", small, work)
        ours_large = _run("ours", large, work)
        ours_large_noimplicit = _run("ours", large, work, implicit=False)
        ours_large_reader = _run("ours_reader_process", large, work)
    result = {
        "texts": "distinct" if args.distinct else "templated",
        "baseline_size": args.baseline,
        "naive_json_load_orm": naive,
        "ours_same_size": ours_small,
        "ours_large": ours_large | {"size": args.messages},
        "ours_large_replies_only": ours_large_noimplicit | {"size": args.messages},
        "ours_large_reader_process": ours_large_reader | {"size": args.messages},
        "bound_large": bound | {"size": args.messages},
        "speedup_same_size": round(ours_small["messages_per_s"] / naive["messages_per_s"], 2),
        "ours_vs_bound": round(ours_large["messages_per_s"] / bound["messages_per_s"], 2),
        "ours_replies_only_vs_bound": round(
            ours_large_noimplicit["messages_per_s"] / bound["messages_per_s"], 2
        ),
        "ours_reader_process_vs_bound": round(
            ours_large_reader["messages_per_s"] / bound["messages_per_s"], 2
        ),
        "bound_schema_large": bound_schema | {"size": args.messages},
        "ours_vs_bound_schema": round(
            ours_large["messages_per_s"] / bound_schema["messages_per_s"], 2
        ),
        "ours_reader_process_vs_bound_schema": round(
            ours_large_reader["messages_per_s"] / bound_schema["messages_per_s"], 2
        ),
        "goal_0.40_of_bound": ours_large["messages_per_s"] >= 0.40 * bound["messages_per_s"],
        "goal_0.40_of_bound_schema": (
            ours_large["messages_per_s"] >= 0.40 * bound_schema["messages_per_s"]
        ),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "peak_rss_growth_large_vs_small": round(
            ours_large["peak_rss_mb"] / ours_small["peak_rss_mb"], 2
        ),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
