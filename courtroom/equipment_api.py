"""The HTTP API for courtroom equipment: court staff issue, list and revoke
device credentials (admin token); a device asks which hearing its
courtroom holds now (its own credential).

A device credential opens nothing else over HTTP: no transcript, no
export, no evidence. On the hearing websocket it reads the hearing as an
observer would and publishes the media of the participants seated in its
courtroom (see ``Session._sources``); it sends no ops.
"""

from __future__ import annotations

from typing import Any, Callable

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from .access import Access
from .bodies import Credential, Line, body_schema, parse_body
from .hub import Hub


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: The courtroom the device is installed in, as hearings name it.
    courtroom: Line = Field(min_length=1, max_length=64)
    #: What court IT calls it (e.g. 第一法庭 主机).
    name: Line = Field(min_length=1, max_length=100)


def equipment_routes(hub: Hub, access: Access, base_url: Callable[[Request], str]) -> APIRouter:
    router = APIRouter()

    def staff_only(token: str) -> None:
        if not access.is_admin(token):
            raise HTTPException(401, "the admin token is required")

    @router.post("/api/devices", status_code=201, openapi_extra=body_schema(DeviceIn))
    async def issue(request: Request, token: Credential) -> dict[str, Any]:
        """A new device credential for a courtroom, shown once."""
        staff_only(token)
        body = await parse_body(request, DeviceIn)
        device, credential = await hub.issue_device(body.courtroom, body.name, "staff:admin")
        return {**device.to_dict(), "credential": credential}

    @router.get("/api/devices")
    async def listing(token: Credential) -> dict[str, Any]:
        """Every device credential ever issued, and the log of issues and
        revocations."""
        staff_only(token)
        devices, history = await hub.equipment_report()
        return {"devices": [d.to_dict() for d in devices], "log": history}

    @router.delete("/api/devices/{device_id}")
    async def revoke(device_id: str, token: Credential) -> dict[str, Any]:
        """Revoke a device's credential: refused from now on, its
        connections closed at once."""
        staff_only(token)
        device = await hub.revoke_device(device_id, "staff:admin")
        if device is None:
            raise HTTPException(404, f"no device {device_id}")
        return device.to_dict()

    @router.get("/api/devices/current")
    async def current(request: Request, token: Credential) -> dict[str, Any]:
        """The hearing the device's courtroom holds now (see
        ``Hub.current_hearing``), and the websocket to join it with the same
        credential."""
        device = await hub.device(token)
        if device is None:
            raise HTTPException(401, "a valid device credential is required")
        room = await hub.current_hearing(device.courtroom)
        if room is None:
            raise HTTPException(404, f"courtroom {device.courtroom} holds no hearing now")
        base = base_url(request)
        if hub.node is not None and hub.node.public:  # in a cluster: the node that runs the hearing's media
            base = await hub.node.authority_url(room.hearing_id) or base
        ws = base.replace("http", "ws", 1) + f"/ws/hearings/{room.hearing_id}"
        return {"device": device.to_dict(), "hearing_id": room.hearing_id, "ws_url": ws}

    return router
