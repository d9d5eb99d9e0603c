"""Attempt limits kept in the vendor's database, so every worker and every server shares them.

A limit kept in a process's memory is per process: behind a load balancer with N servers of W
workers each, a client gets N × W times the allowance, and a restart forgets it. Here each
``(scope, subject)`` — ``("admin-login", client address)``, say — has one row holding the times
of its recent attempts, locked while it is read and written.

An attempt is *reserved* before the expensive or secret check it guards (hashing a password):
``reserve`` records it and says whether it may go ahead, in one transaction, so twenty attempts
sent at once cannot all be checked before any is counted. A success ``clear``\\ s the subject.
Rows of subjects quiet for longer than the window are removed now and then.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ..wire import Clock, system_clock, utc_now
from .models import ThrottleEntry
from .store import VendorStore

__all__ = ["Throttle"]

_table = ThrottleEntry.__table__
assert isinstance(_table, Table)
_ROW = select(_table.c.attempts).where(_table.c.scope == bindparam("scope"),
                                       _table.c.subject == bindparam("subject")).with_for_update()
_SAVE = (update(_table).where(_table.c.scope == bindparam("of_scope"), _table.c.subject == bindparam("of_subject"))
         .values(attempts=bindparam("recent"), last_at=bindparam("at")))
_CLEAR = delete(_table).where(_table.c.scope == bindparam("scope"), _table.c.subject == bindparam("subject"))
_FORGET_QUIET = delete(_table).where(_table.c.scope == bindparam("scope"), _table.c.last_at < bindparam("before"))


@dataclass
class Throttle:
    """At most ``attempts`` per ``window`` seconds for each subject of ``scope`` (a sliding window)."""

    store: VendorStore
    scope: str
    attempts: int = 5
    window: float = 60.0
    clock: Clock = system_clock
    #: one reserve in this many also removes the rows of subjects quiet for a whole window
    sweep_every: int = 200

    def reserve(self, subject: str) -> int:
        """Count an attempt for ``subject`` and return 0, or return the seconds to wait (nothing counted)."""
        now = utc_now(self.clock).timestamp()
        with self.store.transaction() as db:
            recent = [at for at in self._attempts(db, subject) if at > now - self.window]
            if len(recent) >= self.attempts:
                return max(1, int(min(recent) + self.window - now + 0.999))
            db.execute(_SAVE, {"of_scope": self.scope, "of_subject": subject, "recent": [*recent, now], "at": now})
            if random.randrange(self.sweep_every) == 0:
                db.execute(_FORGET_QUIET, {"scope": self.scope, "before": now - self.window})
        return 0

    def clear(self, subject: str) -> None:
        """Forget ``subject``'s attempts (it succeeded)."""
        with self.store.transaction() as db:
            db.execute(_CLEAR, {"scope": self.scope, "subject": subject})

    def _attempts(self, db: Connection, subject: str) -> list[float]:
        """The subject's attempt times, its row made if missing and locked until the transaction ends."""
        dialect = sqlite if db.dialect.name == "sqlite" else postgresql
        db.execute(dialect.insert(_table).values(scope=self.scope, subject=subject, attempts=[], last_at=0.0)
                   .on_conflict_do_nothing())
        attempts = db.execute(_ROW, {"scope": self.scope, "subject": subject}).scalar_one()
        return [float(at) for at in attempts if isinstance(at, (int, float))]
