"""The one pair writer: the engine's decisions for a batch of messages, in a few statements.

:class:`PairBatch` writes every new and grown pair, the live bot's (a batch of messages'
``new`` / ``update`` / ``drop`` decisions) and an import's (a chunk's closed pairs, given as
``new`` decisions) alike. It collects the ``new`` / ``update`` decisions and writes them at
once: one look-up of the pairs they may clash with (by source key and by content hash, so
a pair whose content is stored already, earlier in the same import included, is a
duplicate and not inserted), new pairs in one multi-row ``INSERT … RETURNING``, grown pairs
in one executemany ``UPDATE``, every answer link in one executemany insert-or-ignore. A
``drop`` writes what was collected before it first (the order of decisions is kept), then
is :func:`storage.repo.harvested.drop_pair`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, union
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from harvest.dedup import content_hash
from harvest.engine import Decision, DecisionKind
from harvest.model import PairedAnswer
from storage.models import Member, Message, PairMessage, PairStatus, QAPair, utcnow
from storage.repo.harvested import drop_pair, new_pair_row, pair_row_values, source_key
from storage.repo.pairs import split_for_hash

__all__ = ["Applied", "PairBatch", "Ticket"]

_PAIRS: Any = QAPair.__table__  # type: ignore[attr-defined]
_LINKS: Any = PairMessage.__table__  # type: ignore[attr-defined]
_MESSAGES: Any = Message.__table__  # type: ignore[attr-defined]
_MEMBERS: Any = Member.__table__  # type: ignore[attr-defined]
_NEW = DecisionKind.NEW
_GROWN = ("question_text", "answer_text", "method", "score", "confidence", "confidence_reason")


def _stored_statement() -> Any:
    """Stored pairs of one community by source key or content hash, built once: a batch
    binds its values (a statement built per batch cost the harvest thread about as much
    Python as running it). Two index searches, not one OR: SQLite answers "key IN … OR hash
    IN …" by walking every pair of the community, a batch then costing more with each pair
    stored. UNION, not UNION ALL: a pair found both ways counts once."""
    p = _PAIRS.c
    columns = (p.id, p.source_key, p.content_hash, p.status, p.deleted_at)
    community: Any = bindparam("community_id")
    return union(
        select(*columns).where(
            p.community_id == community, p.source_key.in_(bindparam("keys", expanding=True))
        ),
        select(*columns).where(
            p.community_id == community,
            p.content_hash.in_(bindparam("hashes", expanding=True)),
        ),
    )


_STORED = _stored_statement()
_MESSAGE_IDS = select(_MESSAGES.c.external_id, _MESSAGES.c.id).where(
    _MESSAGES.c.chat_id == bindparam("chat_id"),
    _MESSAGES.c.external_id.in_(bindparam("externals", expanding=True)),
)
_MEMBER_IDS = select(_MEMBERS.c.external_id, _MEMBERS.c.id).where(
    _MEMBERS.c.community_id == bindparam("community_id"),
    _MEMBERS.c.platform == bindparam("platform"),
    _MEMBERS.c.external_id.in_(bindparam("externals", expanding=True)),
)
# A new pair is pending (no index bump): Core rows, no ORM objects. RETURNING gives each its
# id, matched by (community, source key) whatever order the rows come in.
_INSERT = _PAIRS.insert().returning(_PAIRS.c.id, _PAIRS.c.community_id, _PAIRS.c.source_key)
_UPDATE = (
    _PAIRS.update()
    .where(_PAIRS.c.id == bindparam("b_id"))
    .values(
        {
            name: bindparam(f"b_{name}", type_=_PAIRS.c[name].type)
            for name in (*_GROWN, "content_hash", "split", "updated_at")
        }
    )
)


@dataclass(frozen=True, slots=True)
class Applied:
    """What a message's decisions did: ``paired`` (a new pair), ``merged`` (a pair grew),
    or ``stored`` (nothing about pairs); ``pair_ids`` the pairs written."""

    kind: str
    pair_ids: tuple[int, ...] = ()


@dataclass(slots=True, eq=False)
class _Write:
    """A pair to insert (``stored`` False) or a stored pending pair to update."""

    community_id: int
    chat_pk: int
    platform: str
    key: str
    pair: PairedAnswer
    known: Mapping[str, int]
    members: Callable[[str], int | None]
    chash: str = ""
    stored: bool = False
    id: int | None = None


@dataclass(slots=True)
class Ticket:
    """One message's decisions: what they did, known once the batch is written."""

    steps: list[tuple[str, _Write]] = field(default_factory=list)

    def applied(self) -> Applied:
        """``paired`` / ``merged`` / ``stored`` and the pairs written (a drop is neither)."""
        kind, ids = "stored", list[int]()
        for action, write in self.steps:
            if write.id is None:
                continue
            ids.append(write.id)
            if action == "paired":
                kind = "paired"
            elif kind == "stored":
                kind = action
        return Applied(kind, tuple(ids))


@dataclass(slots=True)
class _Row:
    """A stored pair as far as the batch needs it."""

    id: int
    content_hash: str
    pending: bool


class PairBatch:
    """Collects a batch's decisions (:meth:`add`) and writes them (:meth:`write`).

    ``import_id`` is stamped on the pairs it inserts (an import's run, undone with it).
    ``seen`` (an import's, kept from chunk to chunk) holds content hashes its one community
    is known to hold: a ``new`` pair with one of them is a duplicate without a look-up, and
    every pair inserted adds its hash. ``inserted`` and ``duplicates`` count, over every
    :meth:`write`, the pairs inserted and the new ones not inserted because their source key
    or content is stored already.
    """

    def __init__(
        self, session: Session, *, import_id: int | None = None, seen: set[str] | None = None
    ) -> None:
        self.session = session
        self.import_id = import_id
        self.seen = seen
        self.inserted = 0
        self.duplicates = 0
        self._ops: list[tuple[Decision, _Write, Ticket]] = []
        self._community: int | None = None  # the one community ``seen`` is about

    def add(
        self,
        *,
        community_id: int,
        chat_pk: int,
        platform: str,
        decisions: Sequence[Decision],
        message_ids: Mapping[str, int],
        member_ids: Callable[[str], int | None],
    ) -> Ticket:
        """Take one message's decisions (written by :meth:`write`, in this order)."""
        if self.seen is not None:
            if self._community is None:
                self._community = community_id
            elif community_id != self._community:
                raise ValueError("a writer with seen content hashes writes one community")
        ticket = Ticket()
        for decision in decisions:
            if decision.kind is DecisionKind.DROP:
                self.write()  # what came before the drop is stored before it is dropped
                drop_pair(
                    self.session,
                    community_id=community_id,
                    platform=platform,
                    key=decision.key,
                    reason=decision.reason,
                )
            elif decision.kind in (DecisionKind.NEW, DecisionKind.UPDATE):
                assert decision.pair is not None
                key = source_key(platform, decision.key)
                pair = decision.pair
                chash = content_hash(pair.question_text, pair.answer_text)
                write = _Write(
                    community_id, chat_pk, platform, key, pair, message_ids, member_ids, chash
                )
                self._ops.append((decision, write, ticket))
        return ticket

    def write(self) -> None:
        """Store everything collected so far (in the session's transaction)."""
        ops, self._ops = self._ops, []
        seen = self.seen
        if seen is not None:  # known duplicates need no look-up
            fresh = [op for op in ops if op[0].kind is not _NEW or op[1].chash not in seen]
            self.duplicates += len(ops) - len(fresh)
            ops = fresh
        if not ops:
            return
        rows, hashes = self._stored(w for _, w, _ in ops)
        by_key: dict[tuple[int, str], _Row | _Write] = dict(rows)
        inserts: list[_Write] = []
        updates: dict[int, _Write] = {}
        linked: list[_Write] = []
        for decision, write, ticket in ops:
            chash = write.chash
            slot = (write.community_id, write.key)
            current = by_key.get(slot)
            if decision.kind is DecisionKind.UPDATE and current is not None:
                if isinstance(current, _Row):
                    if not current.pending:
                        continue  # a reviewed answer keeps the text it was reviewed with
                    write.stored, write.id = True, current.id
                    hashes[(write.community_id, current.content_hash)] -= 1
                    current.content_hash = chash
                    updates[current.id] = write
                    by_key[slot] = _Row(current.id, chash, True)
                else:  # grew within this batch: its insert carries the grown content
                    hashes[(write.community_id, current.chash)] -= 1
                    current.pair, current.chash = write.pair, chash
                    write = current
                hashes[(write.community_id, chash)] += 1
                ticket.steps.append(("merged", write))
                linked.append(write)
                continue
            # new, or an update of a pair whose first form clashed: inserted unless it clashes
            if current is not None or hashes[(write.community_id, chash)] > 0:
                self.duplicates += 1
                continue
            hashes[(write.community_id, chash)] += 1
            by_key[slot] = write
            inserts.append(write)
            ticket.steps.append(("paired", write))
            linked.append(write)
        self._insert(inserts)
        self.inserted += len(inserts)
        if seen is not None:
            seen.update(w.chash for w in inserts)
        self._update(list(updates.values()))
        self._link(linked)

    # -- reading --------------------------------------------------------------------------

    def _stored(
        self, writes: Iterable[_Write]
    ) -> tuple[dict[tuple[int, str], _Row], Counter[tuple[int, str]]]:
        """Stored pairs the writes may meet, by (community, source key), and the content
        hashes in use by (community, hash)."""
        wanted: dict[int, tuple[set[str], set[str]]] = {}
        for w in writes:
            keys, chashes = wanted.setdefault(w.community_id, (set(), set()))
            keys.add(w.key)
            chashes.add(w.chash)
        rows: dict[tuple[int, str], _Row] = {}
        hashes: Counter[tuple[int, str]] = Counter()
        connection = self.session.connection()
        for community_id, (keys, chashes) in wanted.items():
            found = connection.execute(
                _STORED,
                {"community_id": community_id, "keys": sorted(keys), "hashes": sorted(chashes)},
            )
            for pid, key, chash, status, deleted_at in found:
                pending = status == PairStatus.PENDING and deleted_at is None
                rows[(community_id, key)] = _Row(pid, chash, pending)
                hashes[(community_id, chash)] += 1
        return rows, hashes

    def _message_ids(
        self, writes: Sequence[_Write], externals: Callable[[_Write], Iterable[str]]
    ) -> dict[tuple[int, str], int]:
        """Stored ids of messages by (chat, external id): the callers' known ids, then one
        look-up per chat for the rest."""
        found: dict[tuple[int, str], int] = {}
        missing: dict[int, set[str]] = {}
        for w in writes:
            for ext in externals(w):
                mid = w.known.get(ext)
                if mid is not None:
                    found[(w.chat_pk, ext)] = mid
                elif (w.chat_pk, ext) not in found:
                    missing.setdefault(w.chat_pk, set()).add(ext)
        connection = self.session.connection()
        for chat_pk, exts in missing.items():
            exts -= {e for c, e in found if c == chat_pk}
            if not exts:
                continue
            rows = connection.execute(_MESSAGE_IDS, {"chat_id": chat_pk, "externals": sorted(exts)})
            found.update({(chat_pk, ext): mid for ext, mid in rows})
        return found

    def _member_ids(self, writes: Sequence[_Write]) -> dict[tuple[int, str, str], int]:
        """Member ids of askers and answerers by (community, platform, author)."""
        found: dict[tuple[int, str, str], int] = {}
        missing: dict[tuple[int, str], set[str]] = {}
        for w in writes:
            for author in (w.pair.asker_id, w.pair.answerer_id):
                mid = w.members(author)
                if mid:
                    found[(w.community_id, w.platform, author)] = mid
                else:
                    missing.setdefault((w.community_id, w.platform), set()).add(author)
        connection = self.session.connection()
        for (community_id, platform), authors in missing.items():
            rows = connection.execute(
                _MEMBER_IDS,
                {"community_id": community_id, "platform": platform, "externals": sorted(authors)},
            )
            found.update({(community_id, platform, ext): mid for ext, mid in rows})
        return found

    # -- writing --------------------------------------------------------------------------

    def _insert(self, writes: list[_Write]) -> None:
        if not writes:
            return
        questions = self._message_ids(writes, lambda w: (w.pair.question_id,))
        members = self._member_ids(writes)
        now = utcnow()
        values = [
            new_pair_row(
                w.pair,
                community_id=w.community_id,
                chat_pk=w.chat_pk,
                key=w.key,
                chash=w.chash,
                question_message_id=questions.get((w.chat_pk, w.pair.question_id)),
                asker_id=members.get((w.community_id, w.platform, w.pair.asker_id)),
                answerer_id=members.get((w.community_id, w.platform, w.pair.answerer_id)),
                now=now,
            )
            for w in writes
        ]
        if self.import_id is not None:
            for row in values:
                row["import_id"] = self.import_id
        ids = {(c, k): pid for pid, c, k in self.session.connection().execute(_INSERT, values)}
        for w in writes:
            w.id = ids[(w.community_id, w.key)]

    def _update(self, writes: list[_Write]) -> None:
        if not writes:
            return
        now = utcnow()
        rows = []
        for w in writes:
            values = pair_row_values(w.pair)
            chash = w.chash
            rows.append(
                {
                    "b_id": w.id,
                    **{f"b_{name}": values[name] for name in _GROWN},
                    "b_content_hash": chash,
                    "b_split": split_for_hash(chash),
                    "b_updated_at": now,
                }
            )
        self.session.connection().execute(_UPDATE, rows)

    def _link(self, writes: list[_Write]) -> None:
        """Tie each pair to its answer messages; links already stored stay as they are."""
        unique = list({id(w): w for w in writes if w.id is not None}.values())
        if not unique:
            return
        answers = self._message_ids(unique, lambda w: w.pair.answer_ids)
        links = {}
        for w in unique:
            for position, ext in enumerate(w.pair.answer_ids):
                mid = answers.get((w.chat_pk, ext))
                if mid is not None and (w.id, mid) not in links:
                    links[(w.id, mid)] = {"pair_id": w.id, "message_id": mid, "position": position}
        if links:
            self.session.connection().execute(_link_insert(self.session), list(links.values()))


_LINK_INSERTS: dict[str, Any] = {}


def _link_insert(session: Session) -> Any:
    """``INSERT … ON CONFLICT (pair, message) DO NOTHING`` for the session's dialect."""
    dialect = session.get_bind().dialect.name
    stmt = _LINK_INSERTS.get(dialect)
    if stmt is None:
        if dialect in ("postgresql", "sqlite"):
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            stmt = insert(_LINKS).on_conflict_do_nothing(index_elements=["pair_id", "message_id"])
        else:  # pragma: no cover - other backends: links of a grown pair may repeat
            stmt = _LINKS.insert()
        _LINK_INSERTS[dialect] = stmt
    return stmt
