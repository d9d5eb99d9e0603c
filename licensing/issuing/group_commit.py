"""Group commit: the write transactions of many threads share one transaction and one commit.

A durable commit costs a disk flush (``fsync``): on SQLite with ``synchronous=FULL`` it is the
floor of every activation, and SQLite lets one writer in at a time, so answering writers one
after another caps a server at one flush per answer. On PostgreSQL each activation holds its
license's row lock until its own commit is on disk, with the same effect on one busy license.
Here the threads that arrive while a transaction is being committed wait, and the next of them
(the *leader*) runs all the waiting work in one transaction, each piece in its own savepoint, and
commits once. No answer is released before that commit returned: durability is the same as one
transaction per answer, the flush is shared.

* A piece of work that raises (a refusal, a failed statement) is rolled back to its savepoint;
  the others in the group are unaffected. If the commit itself fails, every piece that had
  succeeded gets that error: nothing of the group was written.
* Pieces run in the order of their ``order`` key (the license id): two groups that lock several
  license rows take the locks in the same order, so servers sharing a PostgreSQL database cannot
  deadlock each other.
* One thread alone runs its work at once, in a plain transaction (no savepoint, no waiting): the
  grouping only happens when writers actually queue up, so it adds no latency to a quiet server.
* Each thread's work runs in the leader's thread: the work must not rely on thread-local state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ContextManager, Generic, TypeVar

from sqlalchemy.engine import Connection

__all__ = ["GroupCommit"]

T = TypeVar("T")


@dataclass
class _Work(Generic[T]):
    run: Callable[[Connection], T]
    order: int
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    finished: bool = False
    value: Any = None
    error: BaseException | None = None


class GroupCommit:
    """Runs ``run(work, order)`` calls from many threads in shared transactions (see the module's docstring).

    ``begin()`` opens one write transaction (committed when its block ends normally, errors of
    its own already typed); ``convert(exc)`` turns a database error raised by one piece into the
    error its caller sees, and leaves any other exception as it is.
    """

    def __init__(self, begin: Callable[[], ContextManager[Connection]], *, max_group: int = 64,
                 convert: Callable[[Exception], BaseException] = lambda exc: exc) -> None:
        self._begin = begin
        self._convert = convert
        self._max_group = max_group
        self._lock = threading.Lock()
        self._queue: list[_Work[Any]] = []
        self._leading = False
        #: transactions committed (or tried) so far, and the pieces of work they carried
        self.groups = 0
        self.pieces = 0

    def run(self, work: Callable[[Connection], T], order: int = 0) -> T:
        """Run ``work(connection)`` in a transaction that is committed before this returns."""
        item: _Work[T] = _Work(work, order)
        with self._lock:
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
        with self._lock:
            return len(self._queue)

    def _lead(self) -> None:
        """Commit one group (the leader's own work is in it), then hand the lead to the next waiter."""
        with self._lock:
            group, self._queue = self._queue[:self._max_group], self._queue[self._max_group:]
        try:
            self._commit(group)
        finally:
            for item in group:
                item.finished = True
                item.wake.set()
            with self._lock:
                if self._queue:
                    self._queue[0].lead = True
                    self._queue[0].wake.set()
                else:
                    self._leading = False

    def _commit(self, group: list[_Work[Any]]) -> None:
        self.groups += 1
        self.pieces += len(group)
        if len(group) == 1:
            (item,) = group
            try:
                with self._begin() as connection:
                    item.value = item.run(connection)
            except Exception as exc:  # noqa: BLE001 - handed to the thread that asked
                item.error = exc
            return
        try:
            with self._begin() as connection:
                for item in sorted(group, key=lambda work: work.order):  # the same lock order everywhere
                    savepoint = connection.begin_nested()
                    try:
                        item.value = item.run(connection)
                    except Exception as exc:  # noqa: BLE001 - one refusal must not undo the others
                        savepoint.rollback()
                        item.error = self._convert(exc)
                    else:
                        savepoint.commit()
        except Exception as exc:  # noqa: BLE001 - the commit failed: nothing of the group was written
            error = self._convert(exc)
            for item in group:
                if item.error is None:
                    item.value, item.error = None, error

