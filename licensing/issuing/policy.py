"""The vendor's limits on activations and password checks, from ``DATA/issuer.json`` (optional).

Every process that answers requests — each portal worker, ``licensing-portal respond`` — reads
the same file from the vendor's data folder, so they all apply the same limits. A missing file,
or a missing entry, means the default below::

    {
      "reactivations_per_period": 5,      # new activations of one license on a machine it was
      "reactivation_period_days": 30,     #   activated on before, per license and period
      "password_attempts": 5,             # password checks per user-based license, and per user
      "password_window_minutes": 15       #   name, per window (a right password gives its own back)
    }
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from .. import ConfigurationError
from .throttle import Limit

__all__ = ["IssuerPolicy", "POLICY_FILE"]

POLICY_FILE = "issuer.json"


@dataclass(frozen=True)
class IssuerPolicy:
    reactivations_per_period: int = 5
    reactivation_period: timedelta = timedelta(days=30)
    password_limit: Limit = Limit(5, timedelta(minutes=15))

    @classmethod
    def from_folder(cls, folder: Path) -> IssuerPolicy:
        """The policy in ``folder/issuer.json``, or the defaults if there is none."""
        path = folder / POLICY_FILE
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"The issuer settings {path} cannot be read ({exc}).",
                                     hint="Fix the file (JSON; see licensing/issuing/policy.py) or delete it "
                                          "for the defaults.") from None
        known = {"reactivations_per_period", "reactivation_period_days", "password_attempts",
                 "password_window_minutes"}
        if not isinstance(doc, dict) or set(doc) - known or not all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in doc.values()):
            raise ConfigurationError(f"The issuer settings {path} hold something other than positive whole numbers "
                                     f"for {', '.join(sorted(known))}.",
                                     hint="Fix the file or delete it for the defaults.")
        default = cls()
        try:
            return cls(
                reactivations_per_period=doc.get("reactivations_per_period", default.reactivations_per_period),
                reactivation_period=timedelta(days=doc.get("reactivation_period_days",
                                                           default.reactivation_period.days)),
                password_limit=Limit(doc.get("password_attempts", default.password_limit.attempts),
                                     timedelta(minutes=doc.get("password_window_minutes",
                                                               default.password_limit.window // timedelta(minutes=1)))),
            )
        except (ValueError, OverflowError) as exc:
            raise ConfigurationError(f"The issuer settings {path} are out of range ({exc}).",
                                     hint="A password window is at most 10080 minutes (a week).") from None
