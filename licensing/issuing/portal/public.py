"""The public pages: no login, the uploaded request file is the credential.

``/activate`` (``ls_activation.req`` → ``ls_activation.lic``), ``/deactivate``
(``ls_deactivation.req`` → a receipt), ``/refresh`` (a device-signed refresh request →
``license_refresh.lic``) and ``/download`` (hands a file shown on a result page back as an
attachment; see :mod:`licensing.issuing.portal.app` for why).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ... import FileMalformedError, FileMissingError, FileTooLargeError, LicenseError, WrongFileTypeError
from ...wire import (
    ACTIVATION_REQUEST,
    ACTIVATION_RESPONSE,
    DEACTIVATION_REQUEST,
    LICENSE_REFRESH,
    MAX_FILE_SIZE,
    REFRESH_REQUEST,
    LicenseRefresh,
    open_signed,
)
from ..issuer import ActivationAnswer, DeactivationReceipt
from .web import (
    PlainRoute,
    attachment,
    check_request_type,
    read_form,
    read_upload,
    render,
    run_db,
    run_read,
    wants_file,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PlainRoute)

ACTIVATION_FILE = "ls_activation.lic"
REFRESH_FILE = "license_refresh.lic"
RECEIPT_FILE = "ls_deactivation_receipt.json"
_FILE_NAMES = {ACTIVATION_RESPONSE: ACTIVATION_FILE, LICENSE_REFRESH: REFRESH_FILE}

_ACTIVATION_WHAT = "the activation request (ls_activation.req)"
_DEACTIVATION_WHAT = "the deactivation request (ls_deactivation.req)"
_REFRESH_WHAT = "the refresh request (license_refresh.req)"


def _workspace(request: Request) -> Any:
    return request.app.state.workspace


@router.get("/", name="home")
def home(request: Request) -> Response:
    return render(request, "index.html")


# -- activation ---------------------------------------------------------------------------------


@router.get("/activate", name="activate")
def activate_page(request: Request) -> Response:
    return render(request, "activate.html")


@router.post("/activate")
async def activate(request: Request) -> Response:
    form = await read_form(request, max_files=1, max_fields=4)
    data, extension = await read_upload(request, form, what=_ACTIVATION_WHAT)
    check_request_type(data, extension, ACTIVATION_REQUEST, what=_ACTIVATION_WHAT)
    answer: ActivationAnswer = await run_db(request, _workspace(request).issuer.answer_activation, data)
    if wants_file(request, form):
        return attachment(answer.data, ACTIVATION_FILE)
    return render(request, "activated.html", {
        "license": answer.license_key or answer.user,
        "device_id": answer.device_id,
        "used": answer.total_activations,
        "maximum": answer.max_activations,
        "file_text": answer.data.decode("ascii").strip(),
        "file_name": ACTIVATION_FILE,
        "first_answered_at": answer.first_answered_at,
    }, headers={"Cache-Control": "no-store"})


# -- deactivation -------------------------------------------------------------------------------


@router.get("/deactivate", name="deactivate")
def deactivate_page(request: Request) -> Response:
    return render(request, "deactivate.html")


@router.post("/deactivate")
async def deactivate(request: Request) -> Response:
    form = await read_form(request, max_files=1, max_fields=4)
    data, extension = await read_upload(request, form, what=_DEACTIVATION_WHAT)
    check_request_type(data, extension, DEACTIVATION_REQUEST, what=_DEACTIVATION_WHAT)
    receipt: DeactivationReceipt = await run_db(request, _workspace(request).issuer.answer_deactivation, data)
    document = receipt.to_dict()
    if wants_file(request, form):
        return attachment(_receipt_bytes(document), RECEIPT_FILE, "application/json")
    portal = request.app.state.portal
    return render(request, "receipt.html", {
        "receipt": document,
        "deactivated": receipt.deactivated_at,
        "receipt_text": _receipt_bytes(document).decode("utf-8"),
        "token": portal.sign_receipt(document),
        "file_name": RECEIPT_FILE,
        "first_answered_at": receipt.first_answered_at,
    }, headers={"Cache-Control": "no-store"})


def _receipt_bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps({"receipt": "offline-licensing-deactivation", **document}, indent=2) + "\n").encode("utf-8")


# -- self-service refresh -----------------------------------------------------------------------


@router.get("/refresh", name="refresh")
def refresh_page(request: Request) -> Response:
    return render(request, "refresh.html")


@router.post("/refresh")
async def refresh(request: Request) -> Response:
    workspace = _workspace(request)
    form = await read_form(request, max_files=1, max_fields=4)
    data, extension = await read_upload(request, form, what=_REFRESH_WHAT)
    check_request_type(data, extension, REFRESH_REQUEST, what=_REFRESH_WHAT)
    signed: bytes = await run_read(request, workspace.issuer.answer_refresh_request, data)
    if wants_file(request, form):
        return attachment(signed, REFRESH_FILE)
    _envelope, doc = open_signed(signed, LICENSE_REFRESH, workspace.keys.trusted_public_keys())
    refreshed = LicenseRefresh.from_payload(doc)
    return render(request, "refreshed.html", {
        "file_text": signed.decode("ascii").strip(),
        "file_name": REFRESH_FILE,
        "device_id": refreshed.device_id,
        "license": refreshed.license.key or refreshed.license.user,
        "revision": refreshed.license.revision,
        "features": [f.code for f in refreshed.license.features],
    }, headers={"Cache-Control": "no-store"})


# -- download -----------------------------------------------------------------------------------


@router.post("/download")
async def download(request: Request) -> Response:
    """Hand back, as an attachment, a file this vendor signed (or a receipt this portal signed).

    Result pages carry the file in a hidden field, so a download works without JavaScript and
    whichever worker takes the second request; only a file that verifies against this vendor's
    own keys (or a receipt token signed with the portal's secret) is echoed.
    """
    form = await read_form(request, max_files=0, max_fields=4)
    token = form.get("receipt")
    if isinstance(token, str) and token:
        document = request.app.state.portal.open_receipt(token)
        if document is None:
            raise FileMalformedError("This receipt could not be verified, so it was not handed out.",
                                     hint="Upload the deactivation request again to see its receipt; "
                                          "a request already answered shows as already deactivated.")
        return attachment(_receipt_bytes(document), RECEIPT_FILE, "application/json")
    text = form.get("file")
    if not isinstance(text, str) or not text.strip():
        raise FileMissingError("There was no file to download in this form.",
                               hint="Use the download button on the page that showed the result.")
    if len(text) > MAX_FILE_SIZE:
        raise FileTooLargeError()
    try:
        data = text.strip().encode("ascii") + b"\n"
    except UnicodeEncodeError:
        raise FileMalformedError("The file in this form is not a licensing file.") from None
    workspace = _workspace(request)
    try:
        envelope, _doc = open_signed(data, frozenset(_FILE_NAMES), workspace.keys.trusted_public_keys())
    except WrongFileTypeError:
        raise WrongFileTypeError("Only the response files this portal gives out can be downloaded here.",
                                 hint="Use the download button on the page that showed the result.") from None
    except LicenseError as error:
        raise type(error)("The file in this form is not one this portal signed, so it was not handed out.",
                          hint="Upload the request again on the portal's page and use the download button "
                               "it shows.") from None
    return attachment(envelope.raw, _FILE_NAMES[envelope.typ])
