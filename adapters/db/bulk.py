"""Repositories of bulk batches: batches, their instructions (written and read a page at a time, so that a
batch of a million rows never sits in memory) and their sub-batches. Core statements throughout: the
rows are many and plain."""
from __future__ import annotations

from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from typing import Any, Iterable, Sequence, TypeVar, cast

from sqlalchemy import Integer, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from adapters.db import tables as t
from adapters.db.errors import insert_unless_present
from adapters.db.types import SEALED_FIELDS
from adapters.sealing import KEYRING, Bound
from domain.batches import Batch, BatchStatus, InstructionStatus
from domain.connectors import Connector
from domain.errors import NotFound
from domain.instructions import Instruction
from domain.sub_batches import SubBatch, SubBatchStatus

B, I, S = t.batches, t.instructions, t.sub_batches
Entity = TypeVar("Entity", Batch, Instruction, SubBatch)
BATCH_STATE = ("status", "reason", "rows", "approved_by_key_id", "updated_at", "completed_at", "split_page",
               "split_offset", "settled", "sub_batch_count", "acknowledged", "dated_rows", "parallel_sub_batches",
               "acknowledgements_given_up_at")
INSTRUCTION_STATE = ("status", "error_code", "error_description", "connector_reference", "payment_order_id",
                     "attempts", "started_at", "completed_at", "sub_batch", "connector", "rail", "requested_date",
                     "execution_date", "delivery_date")
SORTABLE = {"requestFile": B.c.filename, "createdAt": B.c.created_at, "startedAt": B.c.created_at,
            "completedAt": B.c.completed_at, "requestId": B.c.request_id, "status": B.c.status, "id": B.c.id}


def _entity(kind: type[Entity], row: Any, **given: Any) -> Entity:
    """An entity from its row: each field from the column of its name (those in ``given`` as given)."""
    columns = row._mapping
    return kind(**{f.name: given[f.name] if f.name in given else columns[f.name] for f in dataclass_fields(kind)})


def _batch(row: Any) -> Batch:
    return _entity(Batch, row)


def _instruction(row: Any) -> Instruction:
    return _entity(Instruction, row, fields=dict(row.fields))


def _sub_batch(row: Any) -> SubBatch:
    return _entity(SubBatch, row)


class Batches:
    """Batches by their batch_id; a tenant's by its X-CorrelationID."""

    def __init__(self, session: Session):
        self._session = session

    def add(self, batch: Batch) -> tuple[Batch, bool]:
        """Store a new batch unless the tenant has one under its request_id: (the stored one, whether new)."""
        result = insert_unless_present(self._session, insert(B).values(
            batch_id=batch.batch_id, tenant_id=batch.tenant_id, request_id=batch.request_id,
            content_sha256=batch.content_sha256, filename=batch.filename, purpose=batch.purpose,
            callback_url=batch.callback_url, source=batch.source, stored_at=batch.stored_at,
            status=batch.status, rows=batch.rows, submitted_by_key_id=batch.submitted_by_key_id,
            created_at=batch.created_at, updated_at=batch.created_at, size_bytes=batch.size_bytes,
            date_type=batch.date_type), lambda: self.of_request(batch.tenant_id, batch.request_id) is not None)
        if result is not None:
            return self.get(batch.batch_id), True
        return cast(Batch, self.of_request(batch.tenant_id, batch.request_id)), False

    def of_request(self, tenant_id: int, request_id: str) -> Batch | None:
        """The tenant's batch under this X-CorrelationID, if there is one."""
        row = self._session.execute(select(B).where(B.c.tenant_id == tenant_id, B.c.request_id == request_id)).first()
        return _batch(row) if row else None

    def get(self, batch_id: str, lock: bool = False) -> Batch:
        """The batch (its row locked when ``lock``); NotFound when there is none."""
        stmt = select(B).where(B.c.batch_id == batch_id)
        row = self._session.execute(stmt.with_for_update() if lock else stmt).first()
        if row is None:
            raise NotFound(f"batch {batch_id} does not exist")
        return _batch(row)

    def of_pk(self, batch_pk: int) -> Batch:
        """The batch of this primary key; NotFound when there is none."""
        row = self._session.execute(select(B).where(B.c.id == batch_pk)).first()
        if row is None:
            raise NotFound(f"batch {batch_pk} does not exist")
        return _batch(row)

    def id_of(self, batch_pk: int) -> str:
        """The batch_id of a batch's primary key."""
        found = self._session.execute(select(B.c.batch_id).where(B.c.id == batch_pk)).scalar()
        if found is None:
            raise NotFound(f"batch {batch_pk} does not exist")
        return str(found)

    def save(self, batch: Batch) -> None:
        """Write where the batch stands (its row is locked by the caller)."""
        self._session.execute(update(B).where(B.c.id == batch.id).values(
            {name: getattr(batch, name) for name in BATCH_STATE}))

    def count_settled(self, batch: Batch, settled: int) -> None:
        """Add ``settled`` rows to the batch's settled count, in SQL, so that concurrent steps add up."""
        if settled:
            self._session.execute(update(B).where(B.c.id == batch.id).values(settled=B.c.settled + settled))
            batch.settled += settled

    def page(self, tenant_id: int | None, offset: int, limit: int, sorted_by: str,
             descending: bool) -> tuple[list[Batch], int]:
        """A page of batches (a tenant's, or all) in the order asked, and how many there are in all."""
        where = [] if tenant_id is None else [B.c.tenant_id == tenant_id]
        column = SORTABLE.get(sorted_by, B.c.created_at)
        order = [column.desc(), B.c.id.desc()] if descending else [column.asc(), B.c.id.asc()]
        rows = self._session.execute(select(B).where(*where).order_by(*order).offset(offset).limit(limit)).all()
        total = self._session.execute(select(func.count()).select_from(B).where(*where)).scalar_one()
        return [_batch(r) for r in rows], int(total)

    def due_sub_batches(self, due: date, limit: int) -> list[tuple[str, int]]:
        """(batch_id, sub-batch) of processing batches holding a pending row whose execution date has come."""
        rows = self._session.execute(select(B.c.batch_id, I.c.sub_batch).select_from(I.join(B, B.c.id == I.c.batch_pk))
                                     .where(B.c.status == BatchStatus.PROCESSING,
                                            I.c.status == InstructionStatus.PENDING,
                                            I.c.sub_batch.is_not(None), I.c.execution_date <= due)
                                     .group_by(B.c.batch_id, I.c.sub_batch).limit(limit)).all()
        return [(r.batch_id, int(r.sub_batch)) for r in rows]

    def standing(self, before: datetime, limit: int) -> list[Batch]:
        """Queued or processing batches not touched since ``before``."""
        return [_batch(r) for r in self._session.execute(select(B).where(
            B.c.status.in_([BatchStatus.QUEUED, BatchStatus.PROCESSING]), B.c.updated_at < before)
            .order_by(B.c.id).limit(limit))]

    def tenant_names(self, tenant_ids: Iterable[int]) -> dict[int, str]:
        """The names of these tenants, by id."""
        ids = sorted(set(tenant_ids))
        if not ids:
            return {}
        return {r.id: r.name for r in self._session.execute(select(t.tenants.c.id, t.tenants.c.name).where(
            t.tenants.c.id.in_(ids)))}


class Instructions:
    """A batch's rows as instructions, a page at a time."""

    def __init__(self, session: Session):
        self._session = session

    def add_many(self, rows: Sequence[Instruction], dedupe_keys: Sequence[str | None], at: datetime) -> int:
        """Write the rows unless written already (a page split twice); returns how many were new."""
        values = [dict(
            batch_pk=i.batch_pk, row=i.row, instruction_id=i.instruction_id, uetr=i.uetr, fields=dict(i.fields),
            payment_mode=i.payment_mode, connector=i.connector, payee_identifier=Bound(i.payee_identifier[:64], i.uetr),
            amount=i.amount, currency=i.currency[:3], status=i.status, error_code=i.error_code,
            error_description=i.error_description, dedupe_key=KEYRING.digest(key) if key else None, created_at=at,
            updated_at=at, rail=i.rail, requested_date=i.requested_date, completed_at=i.completed_at)
            for i, key in zip(rows, dedupe_keys)]
        if not values:
            return 0
        if insert_unless_present(self._session, insert(I), lambda: bool(self._written(values)), values) is not None:
            return len(values)
        written = self._written(values)  # the page was split before, wholly or in part: the rest is written now
        rest = [v for v in values if (v["batch_pk"], v["row"]) not in written]
        if rest:
            self._session.execute(insert(I), rest)
        return len(rest)

    def _written(self, values: Sequence[dict[str, Any]]) -> set[tuple[int, int]]:
        """Which of these (batch, row) pairs are written already."""
        return {(r.batch_pk, r.row) for r in self._session.execute(select(I.c.batch_pk, I.c.row).where(
            I.c.batch_pk.in_({v["batch_pk"] for v in values}), I.c.row.in_([v["row"] for v in values])))}

    def known_duplicates(self, batch_pk: int, keys: Iterable[str]) -> set[str]:
        """Which of the duplicate keys earlier pages of the batch have already. A key names a payee and an
        amount: it is kept as its HMAC under the data keys (a bare hash of a phone number is guessed)."""
        by_digest = {d: key for key in set(keys) for d in KEYRING.digests(key)}
        if not by_digest:
            return set()
        return {by_digest[d] for d in self._session.scalars(select(I.c.dedupe_key).where(
            I.c.batch_pk == batch_pk, I.c.dedupe_key.in_(sorted(by_digest))))}

    def count(self, batch_pk: int, status: InstructionStatus | None = None) -> int:
        """How many rows the batch has (of one status, when given)."""
        where = [I.c.batch_pk == batch_pk] + ([I.c.status == status] if status else [])
        return int(self._session.execute(select(func.count()).select_from(I).where(*where)).scalar_one())

    def ongoing(self, batch_pk: int) -> int:
        """Rows not settled yet."""
        return int(self._session.execute(select(func.count()).select_from(I).where(
            I.c.batch_pk == batch_pk, I.c.status.in_([InstructionStatus.PENDING,
                                                      InstructionStatus.IN_PROGRESS]))).scalar_one())

    def pending_of_sub_batch(self, batch_pk: int, number: int, limit: int, due: date | None = None) -> list[Instruction]:
        """Up to ``limit`` of the sub-batch's rows not handed over yet (of those, with ``due``, only the ones
        whose execution date has come), locked, in their order."""
        stmt = select(I).with_hint(I, "FORCE INDEX (ix_instructions_sub_batch_status)", "mysql").where(
            I.c.batch_pk == batch_pk, I.c.sub_batch == number, I.c.status == InstructionStatus.PENDING)
        if due is not None:
            stmt = stmt.where(or_(I.c.execution_date.is_(None), I.c.execution_date <= due))
        return [_instruction(r) for r in self._session.execute(
            stmt.order_by(I.c.position, I.c.id).limit(limit).with_for_update())]

    def has_pending(self, batch_pk: int, number: int) -> bool:
        """Whether the sub-batch has a row not handed over yet (no lock: the caller holds the sub-batch's)."""
        return self._session.execute(select(I.c.id).where(
            I.c.batch_pk == batch_pk, I.c.sub_batch == number, I.c.status == InstructionStatus.PENDING)
            .limit(1)).first() is not None

    def in_doubt_of_sub_batch(self, batch_pk: int, number: int) -> list[Instruction]:
        """The sub-batch's rows handed to a remote connector with no answer recorded (no reference)."""
        return [_instruction(r) for r in self._session.execute(select(I).where(
            I.c.batch_pk == batch_pk, I.c.sub_batch == number, I.c.status == InstructionStatus.IN_PROGRESS,
            I.c.connector_reference.is_(None)).order_by(I.c.position, I.c.id))]

    def fail_pending(self, batch_pk: int, code: str, description: str, at: datetime) -> list[str]:
        """Every row not handed over yet fails with the reason (a batch stopped before money moved); their UETRs."""
        uetrs = list(self._session.scalars(select(I.c.uetr).where(
            I.c.batch_pk == batch_pk, I.c.status == InstructionStatus.PENDING).with_for_update()))
        self._session.execute(update(I).where(
            I.c.batch_pk == batch_pk, I.c.status == InstructionStatus.PENDING).values(
            status=InstructionStatus.FAILURE, error_code=code[:32], error_description=description[:512],
            completed_at=at, updated_at=at))
        return uetrs

    def pending_modes(self, batch_pk: int) -> list[tuple[str, Connector | None, int, int]]:
        """(payment mode, connector, pending rows, first row) of the batch, in the order modes first appear."""
        first = func.min(I.c.row).label("first_row")
        rows = self._session.execute(select(I.c.payment_mode, I.c.connector, func.count().label("pending"), first)
                                     .where(I.c.batch_pk == batch_pk, I.c.status == InstructionStatus.PENDING)
                                     .group_by(I.c.payment_mode, I.c.connector).order_by(first)).all()
        return [(r.payment_mode, r.connector, int(r.pending), int(r.first_row)) for r in rows]

    def assign_sub_batch(self, batch_pk: int, payment_mode: str, first: int, size: int, order_by: str | None) -> None:
        """Number the mode's pending rows into sub-batches ``first``, ``first + 1``, … of ``size`` rows,
        in the order of ``order_by`` (a row field; amounts by value) and then the file's."""
        keys: list[Any]
        if order_by in SEALED_FIELDS:
            return self._assign_by_sealed(batch_pk, payment_mode, first, size, order_by or "")
        if order_by is None:
            keys = [I.c.row]
        elif order_by == "amount":
            keys = [I.c.amount, I.c.row]
        elif order_by == "execution_date":
            keys = [I.c.execution_date, I.c.row]
        else:
            value = func.json_unquote(func.json_extract(I.c.fields, f"$.{order_by}"))
            keys = [func.length(value), value, I.c.row] if order_by == "id" else [value, I.c.row]  # 2 before 10
        ranked = select(I.c.id, (func.row_number().over(order_by=keys) - 1).label("rank")).where(
            I.c.batch_pk == batch_pk, I.c.payment_mode == payment_mode,
            I.c.status == InstructionStatus.PENDING).subquery()
        number = (first + (ranked.c.rank - ranked.c.rank % size) / size).cast(Integer)  # exact on MySQL and SQLite
        self._session.execute(update(I).where(I.c.id == ranked.c.id).values(sub_batch=number, position=ranked.c.rank))

    def _assign_by_sealed(self, batch_pk: int, payment_mode: str, first: int, size: int, order_by: str) -> None:
        """As ``assign_sub_batch``, ordered here: a sealed field's tokens say nothing of its order."""
        found = self._session.execute(select(I.c.id, I.c.row, I.c.fields).where(
            I.c.batch_pk == batch_pk, I.c.payment_mode == payment_mode,
            I.c.status == InstructionStatus.PENDING)).all()
        ranked = sorted(found, key=lambda r: (str(r.fields.get(order_by, "")), r.row))
        if ranked:
            self._session.execute(update(I).where(I.c.id == bindparam("_id")).values(
                sub_batch=bindparam("_sub"), position=bindparam("_rank")),
                [{"_id": r.id, "_sub": first + rank // size, "_rank": rank} for rank, r in enumerate(ranked)])

    def of_sub_batch(self, batch_pk: int, number: int, lock: bool = True) -> list[Instruction]:
        """The sub-batch's rows in their order (locked when ``lock``)."""
        stmt = select(I).where(I.c.batch_pk == batch_pk, I.c.sub_batch == number).order_by(I.c.id)
        return [_instruction(r) for r in self._session.execute(stmt.with_for_update() if lock else stmt)]

    def save_many(self, rows: Sequence[Instruction], at: datetime) -> None:
        """Write where each row stands (the caller holds their locks)."""
        if not rows:
            return
        stmt = update(I).where(I.c.id == bindparam("_id")).values(
            {name: bindparam(name) for name in INSTRUCTION_STATE} | {"updated_at": bindparam("_at")})
        self._session.execute(stmt, [
            {name: getattr(i, name) for name in INSTRUCTION_STATE}
            | {"_id": i.id, "_at": at} for i in rows])

    def by_uetr(self, uetr: str, lock: bool = False) -> Instruction:
        """The row of this UETR (locked when ``lock``); NotFound when there is none."""
        stmt = select(I).where(I.c.uetr == uetr)
        row = self._session.execute(stmt.with_for_update() if lock else stmt).first()
        if row is None:
            raise NotFound(f"instruction {uetr} does not exist")
        return _instruction(row)

    def of_order(self, payment_order_id: int, lock: bool = False) -> Instruction | None:
        """The instruction a payment order pays, if a bulk row's."""
        stmt = select(I).where(I.c.payment_order_id == payment_order_id)
        row = self._session.execute(stmt.with_for_update() if lock else stmt).first()
        return _instruction(row) if row else None

    def page(self, batch_pk: int, after_row: int, limit: int, status: Sequence[InstructionStatus] = (),
             offset: int = 0, sub_batch: int | None = None) -> list[Instruction]:
        """Rows after ``after_row`` (or ``offset`` rows on), in the file's order, optionally of some statuses
        or of one sub-batch (-1: the rows in none, those that failed before the split)."""
        where = [I.c.batch_pk == batch_pk, I.c.row > after_row]
        if sub_batch is not None:
            where.append(I.c.sub_batch.is_(None) if sub_batch < 0 else I.c.sub_batch == sub_batch)
        if status:
            where.append(I.c.status.in_(list(status)))
        stmt = select(I).where(*where).order_by(I.c.row).offset(offset).limit(limit)
        return [_instruction(r) for r in self._session.execute(stmt)]

    def tally(self, batch_pk: int) -> list[tuple[int | None, InstructionStatus, str, int, int]]:
        """(sub-batch, status, currency, rows, amount in minor units) of the batch's rows."""
        rows = self._session.execute(select(
            I.c.sub_batch, I.c.status, I.c.currency, func.count().label("rows"),
            func.coalesce(func.sum(I.c.amount), 0).label("amount")).where(
            I.c.batch_pk == batch_pk).group_by(I.c.sub_batch, I.c.status, I.c.currency)).all()
        return [(r.sub_batch, r.status, str(r.currency), int(r.rows), int(r.amount)) for r in rows]

    def in_progress_since(self, before: datetime, connectors: Iterable[Connector], limit: int) -> list[Instruction]:
        """Rows handed to an asynchronous connector before ``before`` and still waiting for its word."""
        return [_instruction(r) for r in self._session.execute(select(I).where(
            I.c.status == InstructionStatus.IN_PROGRESS, I.c.connector.in_(list(connectors)),
            I.c.updated_at < before).order_by(I.c.id).limit(limit))]


class SubBatches:
    """A batch's sub-batches: each one payment mode, numbered from 0."""

    def __init__(self, session: Session):
        self._session = session

    def add(self, sub: SubBatch) -> None:
        """Record a sub-batch, unless it is recorded already (a plan run twice)."""
        insert_unless_present(self._session, insert(S).values(
            batch_pk=sub.batch_pk, number=sub.number, payment_mode=sub.payment_mode, connector=sub.connector,
            rows=sub.rows, status=sub.status, created_at=sub.created_at, updated_at=sub.updated_at or sub.created_at),
            lambda: self.get(sub.batch_pk, sub.number) is not None)

    def lock(self, batch_pk: int, number: int) -> SubBatch:
        """The sub-batch, its row locked; NotFound when there is none."""
        row = self._session.execute(select(S).where(S.c.batch_pk == batch_pk, S.c.number == number)
                                    .with_for_update()).first()
        if row is None:
            raise NotFound(f"sub-batch {number} of batch {batch_pk} does not exist")
        return _sub_batch(row)

    def save(self, sub: SubBatch) -> None:
        """Write where the sub-batch stands (its row is locked by the caller)."""
        self._session.execute(update(S).where(S.c.id == sub.id).values(
            status=sub.status, updated_at=sub.updated_at, started_at=sub.started_at, completed_at=sub.completed_at))

    def unfinished(self, batch_pk: int, before: datetime, parallel: int) -> list[int]:
        """Sub-batches not done whose last move was before ``before``, and whose turn has come: the
        executing ones and the first pending ones, never more than ``parallel`` at once."""
        rows = self._session.execute(select(S.c.number, S.c.status, S.c.updated_at).where(
            S.c.batch_pk == batch_pk, S.c.status != SubBatchStatus.DONE).order_by(S.c.number)).all()
        executing = [r for r in rows if r.status == SubBatchStatus.EXECUTING]
        pending = [r for r in rows if r.status == SubBatchStatus.PENDING]
        turn = executing + pending[:max(0, parallel - len(executing))]
        return [r.number for r in turn if r.updated_at < before]

    def of_batch(self, batch_pk: int) -> list[SubBatch]:
        """The batch's sub-batches, by number."""
        return [_sub_batch(r) for r in self._session.execute(
            select(S).where(S.c.batch_pk == batch_pk).order_by(S.c.number))]

    def get(self, batch_pk: int, number: int) -> SubBatch | None:
        """The sub-batch (no lock), or None when the batch has no sub-batch of this number."""
        row = self._session.execute(select(S).where(S.c.batch_pk == batch_pk, S.c.number == number)).first()
        return _sub_batch(row) if row else None
