"""Query plans as the app gets them on PostgreSQL (for the EXPLAIN tests and benchmarks).

psycopg prepares a statement after five runs on a connection, and PostgreSQL may then
switch to a generic plan that ignores the parameter values (ARCHITECTURE.md). So a plan is
checked the way the app meets it: capture the statements a real domain call sends, then for
each one ``PREPARE`` it, ``EXECUTE`` it six times with the captured values and
``EXPLAIN EXECUTE`` it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import ClientCursor
from sqlalchemy import Engine, event

_PARAM = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Captured:
    sql: str
    params: dict[str, Any]


@contextmanager
def capture(engine: Engine) -> Iterator[list[Captured]]:
    """Every SELECT (and UPDATE … RETURNING) the engine runs inside the block."""
    found: list[Captured] = []

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if not many and isinstance(parameters, dict):
            found.append(Captured(statement, dict(parameters)))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)


def prepared_plan(
    conn: psycopg.Connection[Any],
    captured: Captured,
    *,
    runs: int = 6,
    generic: bool = False,
    analyze: bool = False,
) -> str:
    """The plan PostgreSQL uses for ``captured`` after ``runs`` executions of it as a
    prepared statement (text format, one line per node). ``conn`` is an autocommit
    connection with client-side binding; the statement is prepared anew, so each one starts
    with no plan history, as on a new connection. ``generic``: the generic plan, whatever
    PostgreSQL would choose (``plan_cache_mode = force_generic_plan``: the plan that does
    not know the parameters, which a prepared statement may get). ``analyze``: run it
    (``EXPLAIN (ANALYZE, TIMING OFF)``), for the rows it read."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    # The script runs with no parameters, so psycopg leaves a literal's ``%%`` (the driver's
    # escape of ``%``, e.g. in a LIKE pattern rendered inline) as it is: undone here.
    body = _PARAM.sub(number, captured.sql).replace("%%", "%")
    values = [captured.params[n] for n in names]
    args = ", ".join(["%s"] * len(names))
    execute = f"EXECUTE samverkan_q({args})" if names else "EXECUTE samverkan_q"
    execute = ClientCursor(conn).mogrify(execute, values)
    # One round trip: the runs and the EXPLAIN of a statement prepared anew (the last one's
    # dropped first), in this order; the simple query protocol runs them one after the
    # other as separate round trips would, and every result is read.
    mode = "force_generic_plan" if generic else "auto"
    explain = "EXPLAIN (ANALYZE, TIMING OFF)" if analyze else "EXPLAIN"
    script = ";\n".join(
        [
            f"SET plan_cache_mode = {mode}",
            "DEALLOCATE ALL",
            f"PREPARE samverkan_q AS {body}",
            *[execute] * runs,
            f"{explain} {execute}",
        ]
    )
    results: list[list[tuple[Any, ...]] | None] = []
    with conn.cursor() as cursor:
        cursor.execute(script)
        while True:
            results.append(cursor.fetchall() if cursor.description else None)
            if not cursor.nextset():
                break
    assert len(results) == runs + 4 and results[-1], results
    return "\n".join(str(r[0]) for r in results[-1])


_ACTUAL = re.compile(r"actual rows=(\d+(?:\.\d+)?) loops=(\d+)")


def analyzed_rows(url: str, captured: Captured, table_prefix: str, *, generic: bool = False) -> int:
    """How many rows the scans of tables named ``table_prefix…`` (a partitioned table's
    partitions too) read for ``captured``, run once (``EXPLAIN ANALYZE``): the rows each
    scan returned, times its loops, plus what a filter removed after reading them.
    ``generic``: run as a prepared statement under its generic plan (:func:`prepared_plan`)."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        if generic:
            plan = prepared_plan(conn, captured, generic=True, analyze=True).splitlines()
        else:
            sql = ClientCursor(conn).mogrify(captured.sql, captured.params)
            plan = [str(r[0]) for r in conn.execute(f"EXPLAIN (ANALYZE, TIMING OFF) {sql}")]
    read, scanning = 0, False
    for line in plan:
        match = _SCAN.search(line)
        if match:
            scanning = match.group(2).startswith(table_prefix)
            actual = _ACTUAL.search(line)
            if scanning and actual:
                read += round(float(actual.group(1)) * int(actual.group(2)))
        elif line.lstrip().startswith("->"):
            scanning = False
        elif scanning and "Rows Removed by Filter:" in line:
            read += int(line.split(":")[1])
    return read


def seq_scans(plan: str) -> list[str]:
    """The tables a plan reads whole: ``Seq Scan on <table>`` lines."""
    return re.findall(r"Seq Scan on (\w+)", plan)


_SCAN = re.compile(
    r"(Seq Scan|Index Scan|Index Only Scan|Index Scan Backward|Bitmap Heap Scan)"
    r"(?: Backward)?(?: using \S+)? on (\w+)"
)


_USING = re.compile(r" using (\S+) on ")


def unbounded_scans(
    plan: str, tables: set[str], leading: Callable[[str], str | None] | None = None
) -> list[str]:
    """Scans of ``tables`` that no index condition bounds: a ``Seq Scan``, or an index
    walked whole with only a ``Filter`` (e.g. the primary key backwards, filtering on
    ``forum_id``: it reads past every other forum's rows). With ``leading`` (an index's
    name → its first column), also an index whose condition leaves its first column free:
    PostgreSQL shows a condition on a later column as an ``Index Cond`` too, and walks the
    whole index to apply it (``(forum_id, submission_key)`` asked for the key alone)."""
    lines = plan.splitlines()
    found = []
    for n, line in enumerate(lines):
        match = _SCAN.search(line)
        if not match or match.group(2) not in tables:
            continue
        depth = len(line) - len(line.lstrip())
        details = []
        for following in lines[n + 1 :]:
            inner = len(following) - len(following.lstrip())
            if inner <= depth or following.lstrip().startswith("->"):
                break
            details.append(following.strip())
        conds = [d for d in details if d.startswith(("Index Cond:", "Recheck Cond:"))]
        index = _USING.search(line)
        first = leading(index.group(1)) if leading is not None and index else None
        if first is not None and not any(re.search(rf"\b{first}\b", c) for c in conds):
            conds = []  # the index's first column is free: the whole index is walked
        if match.group(1) == "Seq Scan" or not conds:
            found.append(line.strip())
    return found


def leading_columns(url: str) -> Callable[[str], str | None]:
    """Each index's first column by the index's name (None for an expression)."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT c.relname, a.attname FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
        ).fetchall()
    columns = {str(name): (str(column) if column else None) for name, column in rows}
    return columns.get


def plans_of(
    url: str,
    engine: Engine,
    call: Callable[[], object],
    *,
    keep: Callable[[str], bool],
    generic: bool = False,
) -> list[tuple[str, str]]:
    """(statement, plan after six prepared runs) of the statements ``call`` sends that
    ``keep`` selects. One connection explains them all (a call may send a thousand
    statements; a connection each spent most of the time starting backends)."""
    with capture(engine) as found:
        call()
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        return [(c.sql, prepared_plan(conn, c, generic=generic)) for c in found if keep(c.sql)]
