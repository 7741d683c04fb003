"""The HTTP API of court staff accounts: administrators create, list and
disable accounts and set passwords; staff sign in and out of the console.

Wrong passwords lock an account (``accounts.LOCK_AFTER``); a client address
that keeps failing is refused for a while too, whatever ids it tries.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from .access import STAFF_COOKIE, Access, bearer, same_origin
from storage.accounts import SESSION_HOURS, AccountError, SignInRefused
from .attempts import Attempts
from .bodies import Credential, body_schema, parse_body
from .hub import Hub

log = logging.getLogger(__name__)
#: Wrong passwords from one client address within the window before it is
#: refused for a while (each account also locks on its own).
ADDRESS_ATTEMPTS = 20
ATTEMPT_WINDOW = 15 * 60.0


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: str = Field(max_length=32)
    name: str = Field(max_length=50)
    role: str = Field(max_length=16)
    password: str = Field(max_length=256)


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(max_length=256)


class SignInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: str = Field(max_length=64)
    password: str = Field(max_length=256)


def staff_routes(hub: Hub, access: Access) -> APIRouter:
    router = APIRouter()
    by_address = Attempts(ADDRESS_ATTEMPTS, ATTEMPT_WINDOW)
    accounts = hub.accounts_do

    @router.post("/api/staff", status_code=201, openapi_extra=body_schema(AccountIn))
    async def create(request: Request, token: Credential) -> dict[str, Any]:
        who = await access.administrator(request, token)
        body = await parse_body(request, AccountIn)
        try:
            account = await accounts(hub.accounts.create, body.staff_id, body.name, body.role, body.password)
        except AccountError as err:
            raise HTTPException(400, str(err)) from None
        log.info("staff account %s (%s) created by %s", account.staff_id, account.role, who.staff_id)
        return account.to_dict()

    @router.get("/api/staff")
    async def list_accounts(request: Request, token: Credential) -> dict[str, Any]:
        await access.administrator(request, token)
        return {"staff": [a.to_dict() for a in await accounts(hub.accounts.all)]}

    @router.delete("/api/staff/{staff_id}")
    async def disable(staff_id: str, request: Request, token: Credential) -> dict[str, Any]:
        who = await access.administrator(request, token)
        if not await accounts(hub.accounts.disable, staff_id):
            raise HTTPException(404, f"no active account {staff_id}")
        log.info("staff account %s disabled by %s", staff_id, who.staff_id)
        return {"staff_id": staff_id, "disabled": True}

    @router.put("/api/staff/{staff_id}/password", openapi_extra=body_schema(PasswordIn))
    async def set_password(staff_id: str, request: Request, token: Credential) -> dict[str, Any]:
        """An administrator sets anyone's password; staff their own. Every
        session of the account ends."""
        who = await access.staff(request, token)
        if who is None:
            raise HTTPException(401, "the admin token or a staff sign-in is required")
        if who.role != "admin" and who.staff_id != staff_id:
            raise HTTPException(403, "only a court administrator sets another's password")
        body = await parse_body(request, PasswordIn)
        try:
            await accounts(hub.accounts.set_password, staff_id, body.password)
        except AccountError as err:
            raise HTTPException(400, str(err)) from None
        log.info("password of %s set by %s", staff_id, who.staff_id)
        return {"staff_id": staff_id}

    @router.post("/api/login", openapi_extra=body_schema(SignInIn))
    async def sign_in(request: Request, response: Response) -> dict[str, Any]:
        addr = request.client.host if request.client else "?"
        wait = by_address.blocked(addr)
        if wait:
            raise HTTPException(429, "too many failed sign-ins; try again later",
                                headers={"Retry-After": str(max(1, round(wait)))})
        if not same_origin(request):
            raise HTTPException(403, "sign in from the hub's own page")
        body = await parse_body(request, SignInIn)
        try:
            account, session = await accounts(hub.accounts.sign_in, body.staff_id, body.password)
        except SignInRefused as err:
            by_address.failed(addr)
            log.warning("staff sign-in refused for %r from %s: %s", body.staff_id[:32], addr, err)
            headers = {"Retry-After": str(err.retry_after)} if err.retry_after else None
            raise HTTPException(429 if err.retry_after else 401, str(err), headers=headers) from None
        response.set_cookie(STAFF_COOKIE, session, max_age=SESSION_HOURS * 3600, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
        log.info("staff %s signed in from %s", account.staff_id, addr)
        return {"staff": account.to_dict(), "session": session}

    @router.post("/api/logout")
    async def sign_out(request: Request, response: Response) -> dict[str, Any]:
        session = bearer(request.headers.get("authorization")) or request.cookies.get(STAFF_COOKIE, "")
        if session and len(session) <= 256:
            await accounts(hub.accounts.sign_out, session)
        response.delete_cookie(STAFF_COOKIE, path="/")
        return {"signed_out": True}

    @router.get("/api/me")
    async def me(request: Request, token: Credential) -> dict[str, Any]:
        who = await access.staff(request, token)
        if who is None:
            raise HTTPException(401, "not signed in")
        return {"staff_id": who.staff_id, "name": who.name, "role": who.role}

    return router
