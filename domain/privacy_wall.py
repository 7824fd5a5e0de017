"""The guard at the storage edge: no identifying data and no over-long text in free-text
columns, whatever the code path.

The data inventory (:mod:`domain.inventory`) classifies every column. Each string column
classified as free text (``FREE_TEXT``) or a case detail (``CASE_DETAIL``) — and every string
inside such a JSON column — and each name the inventory marks ``guarded`` (forum, agency and
area names: shown in channels, so a name must not carry a personnummer, phone number, e-mail
or address either) is checked when a row is inserted or the column changes:

* longer than the inventory's ``max_length`` (the modal's own limit): :class:`TextTooLong`;
* identifying data (:func:`domain.privacy.find_identifying`): :class:`IdentifyingDataRefused`
  with the guard's message for what was found.

Both carry the column as ``field`` (and ``column`` = ``"table.column"``), so the handlers'
error mapping shows a friendly message on the field; the flush, and with it the transaction,
is refused and nothing is stored. Listeners and domain functions still check first, so the
user normally meets the field error in the modal; this is the wall behind them.

The hooks listen on SQLAlchemy's :class:`~sqlalchemy.orm.Session` class, so every session of
the process is covered (the bot's listeners, the CLI, scheduler jobs, the tests' own session
factories): ``before_flush`` for objects added or changed through the unit of work, and
``do_orm_execute`` for ``insert()``/``update()`` statements run with ``session.execute`` (of a
mapped class or its table; their ``values(…)``, bound parameters included, and the INSERTs and
UPDATEs they carry as CTEs with ``add_cte``). A statement run on a connection, not the
session, is not seen: write guarded tables through the session.
:func:`install` is called when the ``domain`` package is imported (and again, harmlessly, by
the composition root). Alembic migrations run on a plain connection, not a session, so data
migrations of old rows are not blocked; a session that must write such rows anyway (a data
migration written with the ORM) marks itself with :func:`exempt`.

The date the guard reads ages and future birth dates against is the session's clock
(``session.info["clock"]``, set by the composition root with :func:`bind_clock`), else the
system's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import JSON, Enum, String, Table, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.sql.elements import BindParameter

from domain import privacy
from domain.clock import Clock, SystemClock
from domain.errors import DomainError, IdentifyingDataRefused, TextTooLong
from domain.inventory import INVENTORY, Category
from storage.models import Base

__all__ = ["TextTooLong", "bind_clock", "exempt", "guarded_columns", "install"]

_EXEMPT: Final = "samverkan_privacy_wall_exempt"
_CLOCK: Final = "clock"
_TEXT_CATEGORIES: Final = (Category.FREE_TEXT, Category.CASE_DETAIL)


@dataclass(frozen=True)
class GuardedColumn:
    table: str
    column: str
    attribute: str  # the mapped attribute's name (usually the column's)
    max_length: int | None
    json: bool  # strings inside a JSON value
    field: str  # the form field a refusal names (the column's name unless told)


def guarded_columns() -> dict[str, list[GuardedColumn]]:
    """``{table: [column, …]}``: every free-text or case-detail column that holds text (a
    string that is not an enumeration) or JSON, from the inventory and the models."""
    result: dict[str, list[GuardedColumn]] = {}
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        if not isinstance(table, Table):
            continue
        spec = INVENTORY.get(table.name)
        if spec is None:
            continue
        for name, column_spec in spec.columns.items():
            if name not in table.c or not (
                column_spec.category in _TEXT_CATEGORIES or column_spec.guarded
            ):
                continue
            column = table.c[name]
            is_json = isinstance(column.type, JSON)
            if not is_json and (
                not isinstance(column.type, String) or isinstance(column.type, Enum)
            ):
                continue
            attribute = mapper.get_property_by_column(column).key
            result.setdefault(table.name, []).append(
                GuardedColumn(
                    table.name,
                    name,
                    attribute,
                    column_spec.max_length,
                    is_json,
                    column_spec.field or name,
                )
            )
    return result


_GUARDED: dict[str, list[GuardedColumn]] | None = None


def _guarded() -> dict[str, list[GuardedColumn]]:
    global _GUARDED
    if _GUARDED is None:
        _GUARDED = guarded_columns()
    return _GUARDED


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _check(column: GuardedColumn, value: Any, today: dt.date) -> None:
    if value is None:
        return
    texts = list(_strings(value)) if column.json else [value] if isinstance(value, str) else []
    for text in texts:
        # The length first: the guard never has to read a 100 kB text.
        if column.max_length is not None and len(text) > column.max_length:
            error: DomainError = TextTooLong(
                field=column.field, n=column.max_length, length=len(text)
            )
        else:
            findings = privacy.find_identifying(text, today=today)
            if not findings:
                continue
            error = IdentifyingDataRefused(findings[0].msgid, field=column.field)
        error.column = f"{column.table}.{column.column}"  # type: ignore[attr-defined]
        raise error


def _today(session: Session) -> dt.date:
    clock = session.info.get(_CLOCK)
    return (clock if clock is not None else SystemClock()).now().date()


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(_EXEMPT):
        return
    guarded = _guarded()
    today: dt.date | None = None
    for obj in (*session.new, *session.dirty):
        table = getattr(obj, "__tablename__", None)
        columns = guarded.get(table) if isinstance(table, str) else None
        if not columns:
            continue
        state = obj._sa_instance_state
        new = state.key is None
        for column in columns:
            if new:
                value = getattr(obj, column.attribute)
            else:
                added = state.attrs[column.attribute].history.added
                if not added:
                    continue
                value = added[0]
            if value is None:
                continue
            if today is None:
                today = _today(session)
            _check(column, value, today)


def _do_orm_execute(state: ORMExecuteState) -> None:
    """``insert()``/``update()`` statements and their parameter lists (bulk inserts and
    updates) skip the unit of work: check them here, and any INSERT or UPDATE a statement
    carries as a CTE (``add_cte``: the audit event riding on the change it records)."""
    if state.session.info.get(_EXEMPT):
        return
    statement = state.statement
    ctes = getattr(statement, "_independent_ctes", ())
    if not (state.is_insert or state.is_update or ctes):
        return
    params = state.parameters
    rows = [r for r in (params if isinstance(params, list | tuple) else [params]) if r]
    values = _dml_values(statement, rows, top=True) if state.is_insert or state.is_update else []
    for cte in ctes:
        dml = getattr(cte, "element", None)
        if getattr(dml, "is_insert", False) or getattr(dml, "is_update", False):
            values += _dml_values(dml, rows, top=False)
    if not values:
        return
    today = _today(state.session)
    for column, value in values:
        if isinstance(value, str | dict | list):
            _check(column, value, today)


def _dml_values(statement: Any, rows: list[Any], *, top: bool) -> list[tuple[GuardedColumn, Any]]:
    """The guarded columns an INSERT or UPDATE writes, with their values: from its
    ``values(…)`` (a bound parameter's own value, or the execution parameter it names) and,
    for the executed statement itself (``top``), the execution parameters named as its
    columns (a SET or VALUES taken from them)."""
    table = getattr(statement, "table", None)
    columns = _guarded().get(getattr(table, "name", ""))
    if not columns:
        return []
    by_name = {c.column: c for c in columns} | {c.attribute: c for c in columns}
    found: list[tuple[GuardedColumn, Any]] = []
    named: dict[str, GuardedColumn] = dict(by_name) if top else {}
    for key, value in (getattr(statement, "_values", None) or {}).items():
        column = by_name.get(getattr(key, "key", key))
        if column is None:
            continue
        if isinstance(value, BindParameter):
            if value.value is not None:
                found.append((column, value.value))
            named[value.key] = column
        else:
            found.append((column, value))
    for row in rows:
        if isinstance(row, dict):
            found += [(named[k], v) for k, v in row.items() if k in named]
    return found


def install() -> None:
    """Listen on every session of the process (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
    if not event.contains(Session, "do_orm_execute", _do_orm_execute):
        event.listen(Session, "do_orm_execute", _do_orm_execute)


def bind_clock(sessions: sessionmaker[Session], clock: Clock) -> None:
    """Let the wall read "today" from the process's clock (the test clock included)."""
    sessions.configure(info={_CLOCK: clock})


@contextmanager
def exempt(session: Session) -> Iterator[Session]:
    """For a data migration written with the ORM that must rewrite old rows as they are: what
    the block changes is flushed unchecked before it ends."""
    session.info[_EXEMPT] = True
    try:
        yield session
        session.flush()
    finally:
        session.info.pop(_EXEMPT, None)
