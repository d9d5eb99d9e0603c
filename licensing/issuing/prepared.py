"""Prepared statements: a SQLAlchemy Core statement compiled once per database kind, run on the driver.

``Connection.execute`` looks the compiled form of a statement up in SQLAlchemy's cache and then
builds an execution context, result metadata and row processors, every time: about 25 µs of
Python per statement on SQLite, where SQLite itself needs about 5. The license server's hot paths
run a handful of statements per answer, so theirs (:mod:`licensing.issuing.statements`) are
written as Core statements and prepared here: SQLAlchemy's own compiler gives, once per dialect,
the SQL text, the order of the parameters and the conversions it would apply to them and to the
results (an aware UTC datetime in and out, booleans, JSON), and each call then goes straight to
the driver's cursor on the connection of the caller's transaction. A driver error is raised as
SQLAlchemy would raise it (``sqlalchemy.exc.OperationalError``…), so callers handle one kind.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.selectable import Select

__all__ = ["Prepared"]

Processor = Callable[[Any], Any] | None


_MISSING = object()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool  # the driver takes a sequence in the order of ``binds`` (SQLite); else a mapping by name
    binds: tuple[tuple[str, Any, Processor], ...]  # name, value if the statement fixes one, conversion
    row: Any  # a namedtuple class of the result's columns, or None for a statement without rows
    results: tuple[Processor, ...]

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        converted = []
        for name, fixed, process in self.binds:
            value = values.get(name, _MISSING)
            if value is _MISSING:
                value = fixed
            converted.append(value if process is None or value is None else process(value))
        return converted if self.positional else dict(zip((name for name, _, _ in self.binds), converted))


class Prepared:
    """One Core statement, run with :meth:`rows` (a SELECT) or :meth:`run` (returns the row count)."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def rows(self, db: Connection, values: Mapping[str, Any]) -> list[Any]:
        """The result rows: named tuples with the selected columns' names, converted as SQLAlchemy would."""
        compiled, cursor = self._execute(db, values)
        try:
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        make, results = compiled.row._make, compiled.results
        return [make([value if process is None else process(value) for process, value in zip(results, row)])
                for row in fetched]

    def run(self, db: Connection, values: Mapping[str, Any]) -> int:
        """Run an INSERT, UPDATE or DELETE; the number of rows it touched."""
        _compiled, cursor = self._execute(db, values)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def _execute(self, db: Connection, values: Mapping[str, Any]) -> tuple[_Compiled, Any]:
        dialect = db.dialect
        compiled = self._by_dialect.get(dialect.name) or self._compile(dialect)
        parameters = compiled.parameters(values)
        cursor = db.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, parameters)
        except dialect.loaded_dbapi.Error as exc:
            cursor.close()
            raise DBAPIError.instance(compiled.sql, parameters, exc, dialect.loaded_dbapi.Error,
                                      dialect=dialect) from exc
        return compiled, cursor

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        names = list(compiled.positiontup) if compiled.positiontup else list(compiled.binds)
        binds = tuple((name, compiled.binds[name].value,
                       compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names)
        row: Any = None
        results: tuple[Processor, ...] = ()
        if isinstance(self.statement, Select):
            columns = list(self.statement.selected_columns)
            row = namedtuple("Row", [column.key for column in columns])  # type: ignore[misc,no-redef]
            results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
        prepared = _Compiled(compiled.string, bool(compiled.positiontup), binds, row, results)
        self._by_dialect[dialect.name] = prepared
        return prepared
