"""The vendor's web portal (FastAPI + Jinja2): public upload pages, the admin area, the JSON API.

See :mod:`licensing.issuing.portal.app` for the routes, statuses and design, and
:func:`licensing.issuing.portal.errors.status_for` for the error → HTTP status mapping. Names are
imported on first use, so ``licensing-portal`` commands that do not serve stay quick to start.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "create_app_from_env", "PortalSettings", "status_for"]

_HOMES = {"create_app": "app", "create_app_from_env": "app", "PortalSettings": "settings", "status_for": "errors"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(name)
