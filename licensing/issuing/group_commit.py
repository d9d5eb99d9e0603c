"""Group commit: the write transactions of many threads share one transaction and one commit.

A durable commit costs a disk flush (``fsync``): on SQLite with ``synchronous=FULL`` it is the
floor of every activation, and SQLite lets one writer in at a time, so answering writers one
after another caps a server at one flush per answer. On PostgreSQL each activation holds its
license's row lock until its own commit is on disk, with the same effect on one busy license.
Here the threads that arrive while a transaction is being committed wait, and the next of them
(the *leader*) runs all the waiting work in one transaction and commits once. No answer is
released before that commit returned: durability is the same as one transaction per answer, the
flush is shared.

* A group runs without savepoints: on PostgreSQL each one is two more round trips per piece,
  as many as the piece's own writes. When a piece raises (a refusal, a failed statement), the
  group's transaction is rolled back instead, and the group is run again in three parts: the
  pieces before the failed one together, the failed one alone, the rest together. Every answer
  is then the one that piece would get in a transaction of its own, in the group's order; the
  rare refusal costs two more transactions, instead of two round trips for every answer.
  A piece may therefore run more than once: it must have no effect outside its transaction.
* A piece that fails on a database error when it runs alone is run once more, alone, in a new
  transaction, which sees what other servers committed meanwhile: a deadlock, or a row another
  server inserted first (the answer to the same request id), does not fail the answer.
  If the commit itself fails, every piece of the group gets that error: nothing of it was written.
* Every transaction first takes the locks its pieces need, in one statement, in the order of
  their ``order`` keys (license ids), and the pieces then run in that order: two groups cannot
  deadlock each other, and no piece waits for a lock in the middle of its work (on PostgreSQL a
  statement that waits for a row lock reads the rows it joins as they were before the wait).
* One thread alone runs its work at once, in a plain transaction (no waiting): the grouping only
  happens when writers actually queue up, so it adds no latency to a quiet server.
* Each thread's work runs in the leader's thread: the work must not rely on thread-local state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ContextManager, Generic, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError as DatabaseError

__all__ = ["GroupCommit"]

T = TypeVar("T")


@dataclass
class _Work(Generic[T]):
    run: Callable[[Connection], T]
    order: int
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    finished: bool = False
    retried: bool = False  # run again after a failure (at most once)
    value: Any = None
    error: BaseException | None = None


class GroupCommit:
    """Runs ``run(work, order)`` calls from many threads in shared transactions (see the module's docstring).

    ``begin()`` opens one write transaction (committed when its block ends normally, errors of
    its own already typed); ``convert(exc)`` turns a database error raised by one piece into the
    error its caller sees, and leaves any other exception as it is; ``lock(connection, orders)``
    runs first in every transaction, with the pieces' ``order`` keys in ascending order.
    """

    def __init__(self, begin: Callable[[], ContextManager[Connection]], *, max_group: int = 64,
                 convert: Callable[[Exception], BaseException] = lambda exc: exc,
                 lock: Callable[[Connection, list[int]], None] = lambda connection, orders: None) -> None:
        self._begin = begin
        self._convert = convert
        self._lock = lock
        self._max_group = max_group
        self._mutex = threading.Lock()
        self._queue: list[_Work[Any]] = []
        self._leading = False
        #: transactions committed (or tried) so far, and the pieces of work they carried
        self.groups = 0
        self.pieces = 0

    def run(self, work: Callable[[Connection], T], order: int = 0) -> T:
        """Run ``work(connection)`` in a transaction that is committed before this returns."""
        item: _Work[T] = _Work(work, order)
        with self._mutex:
            self._queue.append(item)
            item.lead = not self._leading
            self._leading = True
        while True:
            if item.lead:
                item.lead = False
                self._lead()
            if item.finished:
                break
            item.wake.wait()
            item.wake.clear()
        if item.error is not None:
            raise item.error
        return item.value  # type: ignore[no-any-return]

    @property
    def waiting(self) -> int:
        """Pieces of work queued for the next group."""
        with self._mutex:
            return len(self._queue)

    def _lead(self) -> None:
        """Commit one group (the leader's own work is in it), then hand the lead to the next waiter."""
        with self._mutex:
            group, self._queue = self._queue[:self._max_group], self._queue[self._max_group:]
        try:
            self._commit(group)
        finally:
            for item in group:
                item.finished = True
                item.wake.set()
            with self._mutex:
                if self._queue:
                    self._queue[0].lead = True
                    self._queue[0].wake.set()
                else:
                    self._leading = False

    def _commit(self, group: list[_Work[Any]]) -> None:
        self.groups += 1
        self.pieces += len(group)
        self._run(sorted(group, key=lambda work: work.order))  # the same lock order everywhere

    def _run(self, items: list[_Work[Any]]) -> None:
        """Run ``items`` in one transaction; after a failed piece, again in parts (see the module's docstring)."""
        try:
            self._transaction(items)
        except _PieceFailed as failed:
            item = items[failed.index]
            if len(items) > 1:
                item.retried = True  # running alone is its second try
                for part in (items[:failed.index], [item], items[failed.index + 1:]):
                    if part:
                        self._run(part)
            elif isinstance(failed.error, DatabaseError) and not item.retried:
                item.retried = True
                self._run(items)
            else:
                item.value, item.error = None, self._convert(failed.error)
        except Exception as exc:  # noqa: BLE001 - BEGIN or COMMIT failed: nothing of these pieces was written
            error = self._convert(exc)
            for item in items:
                item.value, item.error = None, error

    def _transaction(self, items: list[_Work[Any]]) -> None:
        """Run ``items`` in one transaction and commit; a piece that raises rolls it all back (``_PieceFailed``)."""
        with self._begin() as connection:
            self._lock(connection, sorted({item.order for item in items}))
            for index, item in enumerate(items):
                try:
                    item.value = item.run(connection)
                except Exception as exc:  # noqa: BLE001 - handed to _run, which decides who sees it
                    raise _PieceFailed(index, exc) from exc


class _PieceFailed(Exception):
    """The piece at ``index`` raised ``error``; the transaction it ran in was rolled back."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error
