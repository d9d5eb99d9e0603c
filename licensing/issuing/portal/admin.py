"""The admin area: sign-in, products, licenses, each license's Devices tab, and the audit log.

Every page needs a signed-in admin (a GET without one is sent to the sign-in page, a POST gets
403), and every form carries the session's CSRF token (checked before anything is changed).
The pages call :mod:`licensing.issuing.catalog` and the issuer, exactly as the CLI does.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from ... import TooManyAttemptsError, VendorInputError
from ...wire import LICENSE_TYPES, utc_now
from .. import catalog
from ..dates import parse_date, parse_duration, parse_start_date
from ..models import AuditEvent, Device, License
from .web import PageError, attachment, check_csrf, csrf_token, flash, read_form, render, run_db

__all__ = ["router"]

router = APIRouter(prefix="/admin", include_in_schema=False)

_NO_STORE = {"Cache-Control": "no-store"}


def _portal(request: Request) -> Any:
    return request.app.state.portal


def _workspace(request: Request) -> Any:
    return request.app.state.workspace


def _now(request: Request) -> datetime:
    return utc_now(_workspace(request).clock)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=_NO_STORE)


def license_url(name: str) -> str:
    """The admin page of the license ``name`` (a key, or a user name that may hold any character).

    The server decodes ``%2F`` in a path to ``/`` before routing, so a single-encoded
    ``team/alice`` would be two path segments and no page. The name's ``%`` and ``/`` are
    therefore encoded once more (``team%2Falice``) inside the URL-encoded segment, and
    :func:`license_name` undoes that layer. Keys (letters, digits, ``-``) look the same either way.
    """
    return "/admin/licenses/" + quote(name.replace("%", "%25").replace("/", "%2F"), safe="")


def license_name(segment: str) -> str:
    """The license name in the (decoded) path segment of :func:`license_url`."""
    return unquote(segment)


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    _portal(request).require_admin(request)
    return render(request, name, context, status=status, headers=_NO_STORE)


async def _admin_form(request: Request, *, back: str) -> FormData:
    """The form of an admin POST: signed in (else 403), CSRF token right (else 403)."""
    _portal(request).require_admin(request)
    request.state.back = back
    form = await read_form(request)
    check_csrf(request, form)
    return form


# -- form values ---------------------------------------------------------------------------------


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _required(form: FormData, name: str, label: str) -> str:
    value = _text(form, name)
    if value is None:
        raise VendorInputError(f"The field '{label}' is empty.", hint=f"Fill in '{label}' and send the form again.")
    return value


def _int(form: FormData, name: str, label: str) -> int | None:
    value = _text(form, name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise VendorInputError(f"'{label}' must be a whole number, not {value!r}.",
                               hint="Type digits only, e.g. 3.") from None
    if not 0 <= number <= 1_000_000_000:
        raise VendorInputError(f"'{label}' is out of range.", hint="Use a number between 0 and 1000000000.")
    return number


def _date(form: FormData, name: str, label: str, *, start: bool = False) -> datetime | None:
    value = _text(form, name)
    if value is None:
        return None
    try:
        return (parse_start_date if start else parse_date)(value)
    except VendorInputError as error:
        raise VendorInputError(f"'{label}': {error.message}.", hint="Pick a date (YYYY-MM-DD).") from None


def _span(form: FormData, name: str, label: str) -> int | None:
    """A length of time typed as 5m, 2h or 7d (a floating license's lease length or longest borrow)."""
    value = _text(form, name)
    if value is None:
        return None
    try:
        return parse_duration(value)
    except VendorInputError as error:
        raise VendorInputError(f"'{label}': {error.message}", hint=error.hint) from None


def _checked(form: FormData, name: str) -> bool:
    return str(form.get(name, "")).lower() in ("1", "on", "true", "yes")


# -- views of catalogue rows (built inside a session) --------------------------------------------


def _status(license: License, now: datetime) -> str:
    """The catalogue's word, spelt for a page ("not started")."""
    return catalog.license_status(license, now).replace("-", " ")


def _license_view(session: Any, license: License, now: datetime) -> dict[str, Any]:
    used = catalog.active_devices(session, license)
    name = license.key or license.user or ""
    return {
        "name": name, "url": license_url(name), "key": license.key, "user": license.user,
        "product": license.product.code, "type": license.license_type, "status": _status(license, now),
        "enabled": license.enabled, "start": license.start, "expires": license.expires,
        "used": used, "maximum": license.max_activations,
        "consumptions": license.total_consumptions, "max_consumptions": license.max_consumptions,
        "allow_overages": license.allow_overages, "max_overages": license.max_overages,
        "revision": license.revision, "customer": license.customer, "created": license.created_at,
        "features": [{"code": f.code, "name": f.name, "expires": f.expires, "used": f.total_consumptions,
                      "limit": f.max_consumptions} for f in license.features],
        "floating": None if license.license_type != "floating" else {
            "seats": license.seats, "lease_seconds": license.lease_seconds,
            "max_borrow_seconds": license.max_borrow_seconds},
    }


def _device_view(device: Device) -> dict[str, Any]:
    return {"id": device.id, "hardware_id": device.hardware_id, "active": device.active, "enabled": device.enabled,
            "activated": device.activated_at, "deactivated": device.deactivated_at,
            "booked": device.booked_consumptions}


def _audit_rows(session: Any, *, offset: int, limit: int, license_id: int | None = None) -> list[dict[str, Any]]:
    query = (select(AuditEvent, License.key, License.user)
             .outerjoin(License, License.id == AuditEvent.license_id)
             .order_by(AuditEvent.id.desc()).offset(offset).limit(limit))
    if license_id is not None:
        query = query.where(AuditEvent.license_id == license_id)
    rows = []
    for event, key, user in session.execute(query):
        detail = event.detail if isinstance(event.detail, dict) else {}
        rows.append({"at": event.at, "action": event.action, "license": key or user,
                     "license_url": license_url(key or user) if (key or user) else None,
                     "device": event.device_id,
                     "detail": ", ".join(f"{k}: {v}" for k, v in sorted(detail.items()))})
    return rows


# -- sign-in ---------------------------------------------------------------------------------------


def _safe_next(value: object) -> str:
    text = value if isinstance(value, str) else ""
    if text.startswith("/admin") and not text.startswith("//") and "\\" not in text and "\n" not in text:
        return text
    return "/admin"


def _login_context(request: Request, next_url: str) -> dict[str, Any]:
    portal = _portal(request)
    folder = portal.settings.portal_folder or _workspace(request).folder
    return {"configured": portal.credentials.configured, "next": next_url,
            "command": f"licensing-portal --data {folder} admin set-password"}


@router.get("/login", name="admin_login")
def login_page(request: Request) -> Response:
    next_url = _safe_next(request.query_params.get("next"))
    if _portal(request).is_admin(request):
        return _redirect(next_url)
    csrf_token(request)  # the form needs one: start the session now
    return render(request, "admin/login.html", _login_context(request, next_url), headers=_NO_STORE)


@router.post("/login")
async def login(request: Request) -> Response:
    portal = _portal(request)
    client = request.client.host if request.client else "unknown"
    form = await read_form(request, max_fields=4)
    check_csrf(request, form)
    next_url = _safe_next(form.get("next"))
    context = _login_context(request, next_url)
    if not portal.credentials.configured:
        raise PageError(403, "The admin area has no password yet, so nobody can sign in.",
                        f"On the vendor's machine, run: {context['command']}", code="admin_not_configured",
                        template="admin/login.html", context=context)
    try:  # counted before the password is checked, in the database every worker shares
        reservation = await run_db(request, portal.reserve_login, client)
    except TooManyAttemptsError as refusal:
        wait = int(refusal.details["retry_after"])  # type: ignore[call-overload]
        raise PageError(429, "Too many wrong passwords were tried from your address.",
                        f"Wait {wait} seconds, then try again.", code="too_many_attempts",
                        headers={"Retry-After": str(wait)}) from None
    password = form.get("password")
    if not isinstance(password, str) or not await run_in_threadpool(portal.credentials.check, password):
        raise PageError(403, "That password is not right.",
                        "Type the admin password again (it is case-sensitive). After "
                        f"{portal.settings.login_attempts} wrong tries you must wait "
                        f"{_duration(portal.settings.login_window)}.",
                        code="wrong_password", template="admin/login.html", context=context)
    await run_db(request, portal.throttle.release, reservation)
    session_id = await run_db(request, portal.sessions.start)
    portal.sign_in(request, session_id)
    flash(request, "You are signed in.")
    return _redirect(next_url)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)} seconds"
    return f"{int(seconds // 60)} minutes"


@router.post("/logout", name="admin_logout")
async def logout(request: Request) -> Response:
    form = await read_form(request, max_fields=4)
    check_csrf(request, form)
    portal = _portal(request)
    session_id = portal.signed_in_session(request)
    if session_id is not None:  # ended on the server: the old cookie opens nothing, in any worker
        await run_db(request, portal.sessions.end, session_id)
    request.session.clear()
    flash(request, "You are signed out.")
    return _redirect("/admin/login")


# -- dashboard -------------------------------------------------------------------------------------


@router.get("", name="admin_home")
def dashboard(request: Request) -> Response:
    _portal(request).require_admin(request)
    now = _now(request)
    with _workspace(request).store.session() as session:
        products = []
        for product in catalog.list_products(session):
            count = session.scalar(select(func.count()).select_from(License).where(License.product_id == product.id))
            products.append({"code": product.code, "name": product.name, "free_tier": product.free_tier,
                             "licenses": count or 0})
        statuses = Counter(_status(lic, now) for lic in catalog.list_licenses(session))
        devices = session.scalar(select(func.count()).select_from(Device).where(Device.active.is_(True))) or 0
        recent = _audit_rows(session, offset=0, limit=10)
    return _page(request, "admin/dashboard.html", {"products": products, "statuses": dict(sorted(statuses.items())),
                                                   "total": sum(statuses.values()), "devices": devices,
                                                   "recent": recent})


# -- products --------------------------------------------------------------------------------------


def _products(request: Request) -> list[dict[str, Any]]:
    with _workspace(request).store.session() as session:
        return [{"code": p.code, "name": p.name, "free_tier": p.free_tier, "created": p.created_at,
                 "licenses": session.scalar(select(func.count()).select_from(License)
                                            .where(License.product_id == p.id)) or 0}
                for p in catalog.list_products(session)]


@router.get("/products", name="admin_products")
def products_page(request: Request) -> Response:
    _portal(request).require_admin(request)
    return _page(request, "admin/products.html", {"products": _products(request)})


@router.post("/products")
async def add_product(request: Request) -> Response:
    form = await _admin_form(request, back="/admin/products")
    code = _required(form, "code", "Product code")
    name = _text(form, "name")
    free_tier = _checked(form, "free_tier")
    workspace = _workspace(request)
    now = _now(request)

    def add() -> None:
        with workspace.store.session() as session:
            catalog.add_product(session, now, code, name, free_tier=free_tier)

    await run_db(request, add)
    flash(request, f"Added the product {code}.")
    return _redirect("/admin/products")


@router.get("/products/{code}/config", name="admin_product_config")
def product_config(request: Request, code: str) -> Response:
    _portal(request).require_admin(request)
    request.state.back = "/admin/products"
    configuration = _workspace(request).client_configuration(code)
    data = (json.dumps(configuration.to_file_dict(), indent=2) + "\n").encode("utf-8")
    return attachment(data, f"{configuration.product}-config.json", "application/json")


# -- licenses --------------------------------------------------------------------------------------


@router.get("/licenses", name="admin_licenses")
def licenses_page(request: Request) -> Response:
    _portal(request).require_admin(request)
    wanted = request.query_params.get("product") or None
    now = _now(request)
    with _workspace(request).store.session() as session:
        products = [p.code for p in catalog.list_products(session)]
        product = catalog.get_product(session, wanted) if wanted else None
        licenses = [_license_view(session, lic, now) for lic in catalog.list_licenses(session, product)]
    return _page(request, "admin/licenses.html", {"licenses": licenses, "products": products, "product": wanted,
                                                  "types": LICENSE_TYPES})


def _floating_fields(form: FormData) -> dict[str, int | None]:
    """A floating license's seats, lease length and longest borrow, as typed (empty: not given)."""
    return {"seats": _int(form, "seats", "Seats"), "lease_seconds": _span(form, "lease_length", "Lease length"),
            "max_borrow_seconds": _span(form, "max_borrow", "Longest borrow")}


@router.post("/licenses")
async def issue_license(request: Request) -> Response:
    form = await _admin_form(request, back="/admin/licenses")
    max_activations = _int(form, "max_activations", "Maximum activations")
    max_overages = _int(form, "max_overages", "Maximum overages")
    features = tuple(part.strip() for part in (_text(form, "features") or "").split(",") if part.strip())
    license_type = _required(form, "type", "License type")
    spec = catalog.LicenseSpec(
        license_type=license_type, features=features,
        max_activations=1 if max_activations is None else max_activations,
        start=_date(form, "start", "Start date", start=True), expires=_date(form, "expires", "Expiry date"),
        max_consumptions=_int(form, "max_consumptions", "Maximum consumptions"),
        allow_overages=_checked(form, "allow_overages"), max_overages=max_overages or 0,
        user=_text(form, "user"), password=form.get("password") or None,  # type: ignore[arg-type]
        customer=_text(form, "customer"), enabled=not _checked(form, "disabled"),
        **_floating_fields(form),
    )
    product_code = _required(form, "product", "Product")
    workspace = _workspace(request)
    now = _now(request)

    def issue() -> str:
        with workspace.store.session() as session:
            product = catalog.get_product(session, product_code)
            license = catalog.issue_license(session, now, product, spec)
            return license.key or license.user or ""

    name = await run_db(request, issue)
    flash(request, f"Issued the {license_type} license {name}.")
    return _redirect(license_url(name))


def _license_context(request: Request, key: str) -> dict[str, Any]:
    now = _now(request)
    with _workspace(request).store.session() as session:
        license = catalog.get_license(session, key)
        view = _license_view(session, license, now)
        devices = [_device_view(d) for d in license.devices]
        audit = _audit_rows(session, offset=0, limit=10, license_id=license.id)
    return {"license": view, "devices": devices, "audit": audit}


@router.get("/licenses/{key}", name="admin_license")
def license_page(request: Request, key: str) -> Response:
    _portal(request).require_admin(request)
    request.state.back = "/admin/licenses"
    return _page(request, "admin/license.html", {**_license_context(request, license_name(key)), "tab": "details"})


@router.get("/licenses/{key}/devices", name="admin_devices")
def devices_page(request: Request, key: str) -> Response:
    _portal(request).require_admin(request)
    request.state.back = "/admin/licenses"
    return _page(request, "admin/devices.html", {**_license_context(request, license_name(key)), "tab": "devices"})


_LICENSE_ACTIONS: dict[str, tuple[Callable[[FormData], Callable[[Any, datetime, License], Any]], str]] = {
    "enable": (lambda form: lambda s, now, lic: catalog.set_enabled(s, now, lic, True), "Enabled"),
    "disable": (lambda form: lambda s, now, lic: catalog.set_enabled(s, now, lic, False), "Disabled"),
    "reset-consumption": (lambda form: catalog.reset_consumption, "Reset the consumption of"),
}


def _license_change(form: FormData, action: str) -> tuple[Callable[[Any, datetime, License], Any], str]:
    if action in _LICENSE_ACTIONS:
        build, done = _LICENSE_ACTIONS[action]
        return build(form), done
    if action == "extend":
        expires = _date(form, "expires", "New expiry date")
        if expires is None:
            raise VendorInputError("The field 'New expiry date' is empty.", hint="Pick the new expiry date.")
        return (lambda s, now, lic: catalog.extend_license(s, now, lic, expires)), "Changed the expiry of"
    if action == "add-feature":
        code = _required(form, "code", "Feature code")
        name, expires = _text(form, "name"), _date(form, "expires", "Feature expiry date")
        limit = _int(form, "max_consumptions", "Feature consumption limit")
        return (lambda s, now, lic: catalog.add_feature(s, now, lic, code, name=name, expires=expires,
                                                        max_consumptions=limit)), f"Added the feature {code} to"
    if action == "set-floating":
        terms = _floating_fields(form)
        return (lambda s, now, lic: catalog.set_floating(s, now, lic, **terms)), "Changed the floating terms of"
    if action == "max-activations":
        count = _int(form, "count", "Maximum activations")
        if count is None:
            raise VendorInputError("The field 'Maximum activations' is empty.", hint="Type a number, e.g. 3.")
        return (lambda s, now, lic: catalog.set_max_activations(s, now, lic, count)), \
            f"Set the maximum activations to {count} on"
    raise PageError(404, "There is no such action for a license.", "Use the buttons on the license's page.",
                    code="not_found")


@router.post("/licenses/{key}/{action}")
async def change_license(request: Request, key: str, action: str) -> Response:
    key = license_name(key)
    form = await _admin_form(request, back=license_url(key))
    change, done = _license_change(form, action)
    workspace = _workspace(request)
    now = _now(request)

    def apply() -> str:
        with workspace.store.session() as session:
            license = catalog.get_license(session, key, for_update=True)
            change(session, now, license)
            return license.key or license.user or ""

    name = await run_db(request, apply)
    flash(request, f"{done} the license {name}. Active devices learn of it from a refresh file (Devices tab).")
    return _redirect(license_url(name))


# -- devices ---------------------------------------------------------------------------------------


@router.post("/licenses/{key}/devices/{device_id}/{action}")
async def change_device(request: Request, key: str, device_id: str, action: str) -> Response:
    key = license_name(key)
    back = license_url(key) + "/devices"
    form = await _admin_form(request, back=back)
    workspace = _workspace(request)
    now = _now(request)
    if action == "refresh":
        reset = _checked(form, "reset_consumption")
        data = await run_db(request, lambda: workspace.issuer.refresh(key, device_id, reset_consumption=reset))
        return attachment(data, "license_refresh.lic")
    changes: dict[str, tuple[Callable[[Any, datetime, Device], Any], str]] = {
        "disable": (lambda s, t, d: catalog.set_device_enabled(s, t, d, False), "Disabled"),
        "enable": (lambda s, t, d: catalog.set_device_enabled(s, t, d, True), "Enabled"),
        "reset": (catalog.reset_device, "Reset (unbound)"),
    }
    if action not in changes:
        raise PageError(404, "There is no such action for a device.", "Use the buttons on the Devices tab.",
                        code="not_found")
    change, done = changes[action]

    def apply() -> None:
        with workspace.store.session() as session:
            license = catalog.get_license(session, key, for_update=True)
            device = catalog.get_device(session, device_id, license)
            change(session, now, device)

    await run_db(request, apply)
    flash(request, f"{done} the device {device_id}.")
    return _redirect(back)


# -- audit -----------------------------------------------------------------------------------------


@router.get("/audit", name="admin_audit")
def audit_page(request: Request) -> Response:
    portal = _portal(request)
    portal.require_admin(request)
    try:
        page = max(1, min(int(request.query_params.get("page", "1")), 1_000_000))
    except ValueError:
        page = 1
    size = portal.settings.audit_page_size
    wanted = request.query_params.get("license") or None
    with _workspace(request).store.session() as session:
        license_id = catalog.get_license(session, wanted).id if wanted else None
        rows = _audit_rows(session, offset=(page - 1) * size, limit=size + 1, license_id=license_id)
        total = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.license_id == license_id) if license_id is not None
            else select(func.count()).select_from(AuditEvent)) or 0
    has_next = len(rows) > size
    query = f"&license={quote(wanted, safe='')}" if wanted else ""
    return _page(request, "admin/audit.html", {
        "rows": rows[:size], "page": page, "total": total, "license": wanted,
        "previous": f"/admin/audit?page={page - 1}{query}" if page > 1 else None,
        "next": f"/admin/audit?page={page + 1}{query}" if has_next else None,
    })
