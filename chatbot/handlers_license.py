"""The handlers of the license itself: activation (online, offline, the request file), deactivation and clearing,
refresh and the checks, status, features and consumption (see :mod:`chatbot.handlers`)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from licensing import (
    ConsumptionLimitError,
    Lease,
    License,
    LicenseError,
    LicenseID,
    LocalCheckResult,
    NoLicenseError,
)
from licensing.wire import (
    ACTIVATION_RESPONSE_FILE_NAME,
    REFRESH_FILE_NAME,
)

from . import intents, wording
from .dialogue import Pending, Turn
from .explain import (
    MEMORY_VS_DISK,
    Explanation,
    explain,
    md_code,
)
from .handlers_base import HandlerBase
from .replies import Reply
from .skills import SKILLS

__all__ = ["LicenseHandlers"]

_SINGLE_USE = re.compile(r"\b(?:a|an|one|single)\s+(?:credit|use|consumption|unit)\b", re.IGNORECASE)


class LicenseHandlers(HandlerBase):
    """Activation, deactivation, refresh, checks, status, features, consumption."""

    # -- activation ----------------------------------------------------------------------------

    def _activate_online(self, turn: Turn) -> Reply:
        license_id = _license_id(turn.slots)
        if license_id is None:
            return self._ask_license_id(turn)
        result = self.manager.activate_hybrid(license_id, _request_target(turn.slots.get("path")))
        self._online = result.route == "online"
        if result.license is not None:
            return self._activated(turn, result.license, "online", "**Activated online** — the license server "
                                                                   "answered, so no files were needed.")
        assert result.path is not None
        return self._request_written(turn, result.path, f"I took the **offline** route, because {result.reason}. "
                                                         "**Step 1 of 2 done:** I created the activation request.")

    def _activate_offline(self, turn: Turn) -> Reply:
        """Step 1 (a key: write the request) or step 2 (a response file: activate), as the slots say."""
        path, license_id = turn.slots.get("path"), _license_id(turn.slots)
        if isinstance(path, str) and (_is_response(path) or (license_id is None and os.path.isfile(path))):
            return self._accept_response(turn, Path(path), typed=True)
        if license_id is not None:
            return self._create_request(turn, license_id)
        found = next((p for p in self._response_places(path) if os.path.isfile(p)), None)
        if found is not None:
            return self._accept_response(turn, found, typed=False)
        if self._request is not None or self.manager.has_pending_request():
            return self._response_missing(turn)
        return self._ask_license_id(turn)

    def _create_activation_request(self, turn: Turn) -> Reply:
        license_id = _license_id(turn.slots)
        if license_id is None:
            return self._ask_license_id(turn)
        return self._create_request(turn, license_id)

    def _create_request(self, turn: Turn, license_id: LicenseID) -> Reply:
        target = self.manager.create_offline_activation_file(license_id, _request_target(turn.slots.get("path")))
        return self._request_written(turn, target, "**Step 1 of 2 done:** I created the activation request.")

    def _request_written(self, turn: Turn, request: Path, lead: str) -> Reply:
        self._request = request
        self.state.pending = Pending("step", Turn(intents.ACTIVATE_OFFLINE, {}, "activate offline"))
        demo = (f"\n   On this machine the demo vendor can answer it right away: "
                f"{md_code(self.demo.portal_command(request), limit=4096)} (it writes `ls_activation.lic` next to "
                "the request).") if self.demo is not None else ""
        text = (f"{lead}\n\nThe request file is here: {wording.path_md(request)}\n\n"
                "1. Carry this file to a computer with internet and upload it at the Offline Licensing Portal "
                f"(page \"Offline activation\").{demo}\n"
                f"2. Then bring back `ls_activation.lic`, put it in {wording.path_md(request.parent)}, and say "
                "**activate offline** (or give its path: `activate offline <path to ls_activation.lic>`).")
        return Reply(text, turn.name, True, ("activate offline", "help offline"),
                     data={"path": str(request), "route": "offline", "step": 1})

    def _accept_response(self, turn: Turn, response: Path, *, typed: bool) -> Reply:
        try:
            license_ = self.manager.activate_license_offline(response)
        except LicenseError as error:
            if typed or error.code not in ("response_already_used", "guard_missing", "request_mismatch",
                                           "license_deactivated"):
                raise
            # A response left over from an earlier activation: offer to start a new one.
            reply = self._failure(turn.name, error, f"I tried the {md_code(response.name)} I found in "
                                                    f"{wording.path_md(response.parent)}.")
            self.state.pending = Pending("license_id", replace(turn, slots={}))
            return replace(reply, text=reply.text + "\n\nTo start a new activation, tell me the license key "
                                                    "(or `user NAME password PASSWORD`).")
        self._request = None
        return self._activated(turn, license_, "offline", "**Step 2 of 2 done — activated offline.**", response)

    def _activated(self, turn: Turn, license_: License, route: str, lead: str, path: Path | None = None) -> Reply:
        data: dict[str, Any] = {"route": route}
        if path is not None:  # the offline route's second step
            data.update(path=str(path), step=2)
        return Reply(f"{lead}\n\n{self._report(license_)}", turn.name, True,
                     ("tell me a joke", "features", "status"), data=data)

    def _response_places(self, typed: object = None) -> list[Path]:
        """Where step 2 looks for ls_activation.lic: a folder typed, the default place, beside the request."""
        places = [self.manager.config.requests_dir / ACTIVATION_RESPONSE_FILE_NAME]
        if isinstance(typed, str) and os.path.isdir(typed):
            places.insert(0, Path(typed) / ACTIVATION_RESPONSE_FILE_NAME)
        if self._request is not None:
            places.append(self._request.parent / ACTIVATION_RESPONSE_FILE_NAME)
        return list(dict.fromkeys(places))

    def _response_missing(self, turn: Turn) -> Reply:
        places = self._response_places(turn.slots.get("path"))
        looked = " and ".join(wording.path_md(p.parent) for p in places)
        request = wording.path_md(self._request) if self._request is not None else "`ls_activation.req`"
        demo = (f" (the demo vendor here: {md_code(self.demo.portal_command(self._request), limit=4096)})"
                if self.demo is not None and self._request is not None else "")
        text = (f"**`ls_activation.lic` is not there yet.** I looked in {looked}.\n\n"
                f"Upload the request {request} at the Offline Licensing Portal on a computer with internet{demo}, "
                f"put the `ls_activation.lic` it gives you in {wording.path_md(places[-1].parent)}, and say "
                "**activate offline** again — or tell me where it is: `activate offline <path>`. "
                "To start over with another license, give me its key.")
        self.state.pending = Pending("license_id", replace(turn, slots={}))
        return Reply(text, turn.name, False, ("activate offline", "help offline"),
                     data={"code": "file_not_found", "looked_in": [str(p) for p in places]})

    def _ask_license_id(self, turn: Turn) -> Reply:
        current = self._current()
        note = (f"You already have a license here ({wording.who(current)}); activating another one replaces it.\n\n"
                if current is not None and current.status == "active" else "")
        demo = " Say **which keys can I use?** to see the demo keys." if self.demo is not None else ""
        return self.ask("license_id", turn,
                         f"{note}Which license? Type its key (like `ABCD-1234-EFGH-5678`), or for a user-based "
                         f"license `user NAME password PASSWORD`.{demo}",
                         ("which keys can I use?",) if self.demo is not None else ())

    # -- deactivation and clearing -------------------------------------------------------------

    def _deactivate(self, turn: Turn) -> Reply:
        license_ = self._require_license()
        how = ("I will write `ls_deactivation.req` and remove the license from this device; uploading that file "
               "at the portal then frees the activation" if turn.name == intents.DEACTIVATE_OFFLINE else
               "I will deactivate online if the license server answers (that frees the activation at once), "
               "otherwise write `ls_deactivation.req` for you to upload at the portal")
        return self.ask("confirm", turn, f"Deactivate {wording.who(license_)} on this device? {how}. The skills stop "
                                          "working here.\n\nSay **yes** to deactivate, or **no** to keep it.",
                         ("yes", "no"))

    def _deactivate_now(self, turn: Turn) -> Reply:
        license_ = self._require_license()
        path = turn.slots.get("path")
        if turn.name == intents.DEACTIVATE_OFFLINE:
            request, lead = license_.deactivate_offline(path), "**Deactivated on this device.**"
        else:
            result = license_.deactivate_hybrid(path)
            self._online = result.route == "online"
            if result.path is None:
                return Reply("**Deactivated online** — the license server freed the activation, and the license is "
                             "removed from this device.", turn.name, True, ("status",), data={"route": "online"})
            request = result.path
            lead = f"I took the **offline** route, because {result.reason}. **Deactivated on this device.**"
        self._request = None
        demo = (f" On this machine the demo vendor can take it right away: "
                f"{md_code(self.demo.portal_command(request), limit=4096)}.") if self.demo is not None else ""
        return Reply(f"{lead} The license is removed here, and the deactivation request is at {wording.path_md(request)}."
                     "\n\nCarry this file to a computer with internet and upload it at the Offline Licensing Portal "
                     f"(page \"Offline deactivation\"): that frees the activation at the vendor.{demo}",
                     turn.name, True, ("status",), data={"path": str(request), "route": "offline"})

    def _clear_storage(self, turn: Turn) -> Reply:
        return self.ask("confirm", turn,
                         "Clear the local license storage? That removes the license and any pending request from "
                         "this device. It does **not** free the activation at the vendor — that seat stays taken; "
                         "to free it, say **deactivate offline** instead.\n\nSay **yes** to clear, or **no** to "
                         "keep everything.", ("yes", "no"))

    def _clear_now(self, turn: Turn) -> Reply:
        self.manager.clear_local_storage()
        self._request = None
        return Reply("**Local storage cleared**: there is no license on this device now. The activation still "
                     "counts at the vendor; if you need the seat back, ask your vendor to reset this device.",
                     turn.name, True, ("activate offline",))

    # -- refresh and checks ----------------------------------------------------------------------

    def _refresh(self, turn: Turn) -> Reply:
        license_ = self._require_license()
        path = turn.slots.get("path")
        default = self.manager.config.requests_dir / REFRESH_FILE_NAME
        if path is None and not os.path.isfile(default):
            missing = Explanation(
                "file_not_found", f"`{REFRESH_FILE_NAME}` is not there", f"I looked in {wording.path_md(default.parent)}.",
                "Ask your vendor for a refresh file (they download it from the portal's Devices tab after changing "
                f"your license, for this device's activation id: {wording.device_id_md(license_)}), put it there and say "
                "**refresh** again — or tell me its path: `refresh <path>`.", ("help refresh",))
            self._note_problem(missing)
            self.state.pending = Pending("step", Turn(intents.REFRESH_OFFLINE, {}, "refresh"))
            return Reply(f"**{missing.title}.** {missing.what_happened}\n\n{missing.how_to_fix}", turn.name, False,
                         missing.suggestions, data={"code": "file_not_found", "looked_in": [str(default)]})
        before, used_before, contact = license_.terms, license_.local_consumptions, license_.last_server_contact
        license_.update_offline(path)
        changes = wording.changes(before, license_.terms, used_before, license_.local_consumptions)
        grace = self.manager.config.grace_period
        renewed = license_.last_server_contact
        if renewed is not None and renewed != contact and grace is not None:
            changes.append("it counts as contact with the license server, so the grace period starts again: without "
                           f"the server, the license is now {wording.until(renewed + grace)}")
        listed = "\n".join(f"- {change}" for change in changes) or "- nothing you would notice (a new revision only)"
        revision = (f"revision {before.revision} → {license_.revision}" if license_.revision != before.revision
                    else f"still revision {license_.revision}: no new terms")
        return Reply(f"**License refreshed** ({revision}). What changed:\n{listed}", turn.name, True,
                     ("features", "status"),
                     data={"path": str(path or default), "revision": license_.revision, "route": "offline"})

    def _check_online(self, turn: Turn) -> Reply:
        license_ = self._require_license()
        online = self.manager.is_online()
        self._online = online
        fallback = None if online else f"I could not check online, because {self._offline_reason()}, so I ran " \
                                        "a local check instead"
        try:
            result = license_.check_hybrid()
        except LicenseError as error:
            return self._failure(turn.name, error, f"{fallback}, and it failed:" if fallback else "")
        self._online = result.route == "online"
        lead = ("**Checked online**: the license server confirmed your license." if result.route == "online" else
                f"I could not check online, because {result.reason}, so I ran a local check instead: "
                "**it passed**.")
        return Reply(f"{lead}\n\n{self._report(license_)}", turn.name, True, ("status",),
                     data={"route": result.route})

    def _local_check(self, turn: Turn) -> Reply:
        license_ = self._require_license()
        result = license_.local_check()
        self._noted_check(True, "local check")
        # A license that never went online never needs the server: its "server contact" check is moot.
        checked = ", ".join(wording.CHECK_WORDS.get(item.name, item.name) for item in result.items
                            if item.name != "server_contact" or license_.last_server_contact is not None)
        expired = wording.expired_features_note(result.expired_features)
        return Reply(f"**Local check passed** — no network needed. Checked: {checked}.{expired}", turn.name, True,
                     ("features", "status"))

    def _is_online(self, turn: Turn) -> Reply:
        self._online = self.manager.is_online()
        text = ("**Online**: the license server answers. Activation, checks and deactivation can go through it."
                if self._online else
                f"**Offline**: {self._offline_reason()}. Everything still works with files: **activate offline**, "
                "**refresh** and **deactivate offline**.")
        return Reply(text, turn.name, True, ("status",), data={"online": self._online})

    def _offline_reason(self) -> str:
        if not self.manager.config.server_url:
            return "no license server is configured"
        return "the license server cannot be reached"

    def _reload(self, turn: Turn) -> Reply:
        before = self._seen
        after = self._seen = self.manager.reload_license()
        if before is None and after is None:
            found = "I read the disk again: there is no license on this device."
        elif after is None:
            found = ("I read the disk again: **the license file is gone** (another program removed it, or it was "
                     "deactivated elsewhere). I had still been using the copy in memory — that is why I said you "
                     "were licensed. Now I hold no license.")
        elif before is None or before.device_id != after.device_id:
            found = f"I read the disk again and loaded the license there:\n\n{self._report(after)}"
        elif before.revision != after.revision:
            found = (f"I read the disk again: it holds revision {after.revision} of the license (I had revision "
                     f"{before.revision} in memory), so I now use the newer one.\n\n{self._report(after)}")
        else:
            found = f"I read the disk again: it matches what I had in memory.\n\n{self._report(after)}"
        return Reply(f"{found}\n\n_Why this exists:_ {MEMORY_VS_DISK}", turn.name, True, ("status",))

    def _license_status(self, turn: Turn) -> Reply:
        """Diagnose: every local check, and the first failure explained with its fix (or one fact, asked for)."""
        if "fact" in turn.slots:
            return self._fact(turn)
        if self.seats.lease is not None:
            return self._seat_checked(turn, self.seats.lease)
        license_ = self._current()
        if license_ is None:
            fix = explain(NoLicenseError()).how_to_fix
            return Reply(f"**You are not licensed: no license is activated on this device.**\n\n{fix}", turn.name,
                         True, ("activate offline", "help offline"), data={"licensed": False, "code": "no_license"})
        result = license_.check_status()
        self._noted_check(result.ok, "status")
        if result.ok and wording.counts_uses(license_) and license_.remaining_consumptions == 0:
            used_up = self._explain(ConsumptionLimitError())
            self._note_problem(used_up)
            return Reply("**You are licensed, but no uses are left.** The license is valid, and every use it allows "
                         "has been recorded, so each skill is refused until the count is reset or the limit raised."
                         f"\n\n{self._report(license_)}\n\n**What to do:** {used_up.how_to_fix}", turn.name, True,
                         ("refresh", "features"), data={"licensed": True, "uses_left": 0})
        if result.ok:
            expired = wording.expired_features_note(result.expired_features)
            return Reply(f"**You are licensed.**\n\n{self._report(license_)}{expired}", turn.name, True,
                         ("features", "tell me a joke"), data={"licensed": True})
        return self._not_licensed(turn, result)

    def _seat_checked(self, turn: Turn, lease: Lease) -> Reply:
        """ "am I licensed?" while a floating seat is held: the seat is the license."""
        result = lease.check_status()
        self._noted_check(result.ok, "status")
        if not result.ok:
            return self._not_licensed(turn, result, "your floating seat's ")
        return Reply(f"**You are licensed** by a floating seat.\n\n{self._seat_report(lease)}", turn.name, True,
                     ("tell me a joke", "how many seats are free?"), data={"licensed": True, "seat": lease.slot + 1})

    def _not_licensed(self, turn: Turn, result: LocalCheckResult, whose: str = "the ") -> Reply:
        """The first failing check explained with its fix, and the others named."""
        failed = [item for item in result.items if not item.ok]
        first = failed[0]
        assert first.error is not None
        explanation = self._explain(first.error)
        self._note_problem(explanation)
        others = (f"\n\nAlso failing: {', '.join(wording.CHECK_WORDS.get(i.name, i.name) for i in failed[1:])}."
                  if len(failed) > 1 else "")
        return Reply(f"**You are not licensed right now** — {whose}{wording.CHECK_WORDS.get(first.name, first.name)} "
                     f"check failed.\n\n{explanation.markdown()}{others}", turn.name, True, explanation.suggestions,
                     data={"licensed": False, "code": first.error.code, "check": first.name})

    def _features(self, turn: Turn) -> Reply:
        license_ = self.seats.lease or self._require_license()
        now = self.manager.now()
        skills_by_feature = {skill.feature: skill for skill in SKILLS.values()}
        lines = []
        for feature in license_.features():
            notes = []
            skill = skills_by_feature.get(feature.code)
            if skill is not None:
                notes.append(f"unlocks *{skill.title}*")
            if feature.expires is not None:
                notes.append(wording.feature_expiry(feature.expires, now))
            if feature.max_consumptions is not None and isinstance(license_, License):
                used = feature.total_consumptions + license_.feature_consumptions(feature.code)
                notes.append(f"{used} of {feature.max_consumptions} uses")
            lines.append(f"- {md_code(feature.code)}" + (f" — {', '.join(notes)}" if notes else ""))
        codes = {feature.code for feature in license_.features()}
        missing = [f"{md_code(code)} ({skill.title})" for code, skill in skills_by_feature.items() if code not in codes]
        whose = "floating seat" if isinstance(license_, Lease) else "license"
        text = f"**Features on your {whose}:**\n" + ("\n".join(lines) or "- none")
        them = "it" if len(missing) == 1 else "them"
        if isinstance(license_, Lease):
            if missing:
                text += (f"\n\nNot on it: {', '.join(missing)}. The vendor's refresh, applied at the floating server, "
                         f"can add {them}.")
            return Reply(text, turn.name, True, ("status",), data={"features": sorted(codes)})
        if missing:
            text += (f"\n\nNot on your license: {', '.join(missing)}. A refresh file from your vendor can add "
                     f"{them}.")
        text += f"\n\nThis device's activation id: {wording.device_id_md(license_)} (your vendor needs it for a refresh file)."
        return Reply(text, turn.name, True, ("status",), data={"features": sorted(codes)})

    def _consume(self, turn: Turn) -> Reply:
        license_ = self._require_license()
        if not wording.counts_uses(license_):
            return Reply(f"Your license is **{license_.license_type}**: it does not count uses, so there is nothing "
                         "to record.", turn.name, False, ("status",))
        count = turn.slots.get("count")
        if count is None and _SINGLE_USE.search(turn.line):
            count = 1
        if count is None:
            return self.ask("count", turn, "How many uses should I record? (for example **1**)", ("1",))
        license_.add_local_consumption(count)
        return Reply(f"Recorded {count} {'use' if count == 1 else 'uses'}. {wording.uses(license_)}", turn.name, True,
                     ("status",), data={"remaining": license_.remaining_consumptions})


def _license_id(slots: Mapping[str, Any]) -> LicenseID | None:
    credentials = slots.get("credentials")
    if isinstance(credentials, intents.Credentials):
        return LicenseID.from_user(credentials.user, credentials.password)
    key = slots.get("key")
    return LicenseID.from_key(key) if isinstance(key, str) else None


def _is_response(path: str) -> bool:
    return path.lower().endswith(".lic")


def _request_target(path: object) -> str | None:
    """A typed path names where the request goes, unless it is a response (.lic) file."""
    return path if isinstance(path, str) and not _is_response(path) else None
