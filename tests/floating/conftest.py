"""Fixtures of the floating tests: a floating lab on the test's clock, and its server in a thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.floating import FloatingLab
from support.lab import FakeClock


@pytest.fixture
def floating(tmp_path: Path, clock: FakeClock) -> Iterator[FloatingLab]:
    """A vendor, a floating license of 2 seats (1-minute leases, borrows up to 3 days), its server activated."""
    created = FloatingLab(tmp_path, clock, seats=2, lease_seconds=60, max_borrow_seconds=3 * 86_400)
    yield created
    created.lab.vendor.close()


@pytest.fixture
def url(floating: FloatingLab) -> Iterator[str]:
    """The floating server, in a thread of the test process on the test's clock."""
    with floating.serving() as served:
        yield served
