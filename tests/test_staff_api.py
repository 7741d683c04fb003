"""Court staff accounts over HTTP, against a real hub process: Argon2
hashes, sessions and logout, lockout after wrong passwords, and what only
an administrator may do."""

from __future__ import annotations

import sqlite3

import httpx

from tests.support import ADMIN, HubProcess

ADMIN_H = {"Authorization": f"Bearer {ADMIN}"}
PASSWORD = "correct horse 1"


def make(hub: HubProcess, staff_id: str, role: str = "judge", password: str = PASSWORD) -> httpx.Response:
    return httpx.post(hub.url + "/api/staff", headers=ADMIN_H,
                      json={"staff_id": staff_id, "name": "赵法官", "role": role, "password": password})


def login(hub: HubProcess, staff_id: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(hub.url + "/api/login", json={"staff_id": staff_id, "password": password})


def bearer(session: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {session}"}


def test_accounts_keep_only_argon2_hashes(hub: HubProcess) -> None:
    assert make(hub, "judge1").status_code == 201
    assert make(hub, "judge1").status_code == 400  # exists
    assert make(hub, "judge2", password="short").status_code == 400
    assert make(hub, "Judge 3").status_code == 400
    assert make(hub, "x", role="emperor").status_code == 400
    conn = sqlite3.connect(hub.data / "courtroom.db")
    (stored,) = conn.execute("SELECT password_hash FROM staff_accounts WHERE staff_id = 'judge1'").fetchone()
    conn.close()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_sign_in_session_and_logout(hub: HubProcess) -> None:
    make(hub, "judge1")
    assert login(hub, "judge1", "wrong password!").status_code == 401
    assert login(hub, "nobody", PASSWORD).status_code == 401
    r = login(hub, "judge1")
    assert r.status_code == 200 and r.json()["staff"]["role"] == "judge"
    assert "httponly" in r.headers["set-cookie"].lower() and "samesite=strict" in r.headers["set-cookie"].lower()
    session = r.json()["session"]
    assert httpx.get(hub.url + "/api/me", headers=bearer(session)).json()["staff_id"] == "judge1"
    assert httpx.post(hub.url + "/api/logout", headers=bearer(session)).status_code == 200
    assert httpx.get(hub.url + "/api/me", headers=bearer(session)).status_code == 401


def test_repeated_wrong_passwords_lock_the_account_across_restarts(hub: HubProcess) -> None:
    make(hub, "judge1")
    codes = [login(hub, "judge1", f"wrong password {i}").status_code for i in range(5)]
    assert codes == [401] * 5
    locked = login(hub, "judge1")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 800
    hub.kill()
    hub.start()
    assert login(hub, "judge1").status_code == 429


def test_only_administrators_manage_accounts(hub: HubProcess) -> None:
    make(hub, "judge1")
    judge = bearer(login(hub, "judge1").json()["session"])
    assert httpx.post(hub.url + "/api/staff", headers=judge,
                      json={"staff_id": "j9", "name": "x", "role": "admin", "password": PASSWORD}).status_code == 403
    assert httpx.get(hub.url + "/api/staff", headers=judge).status_code == 403
    assert httpx.delete(hub.url + "/api/staff/judge1", headers=judge).status_code == 403
    assert httpx.put(hub.url + "/api/staff/admin2/password", headers=judge,
                     json={"password": PASSWORD}).status_code == 403
    assert httpx.get(hub.url + "/api/staff").status_code == 401
    # An administrator's account may, and disabling ends the judge's session.
    make(hub, "admin2", role="admin")
    admin = bearer(login(hub, "admin2").json()["session"])
    assert [a["staff_id"] for a in httpx.get(hub.url + "/api/staff", headers=admin).json()["staff"]] == [
        "admin2", "judge1"]
    assert httpx.delete(hub.url + "/api/staff/judge1", headers=admin).status_code == 200
    assert httpx.get(hub.url + "/api/me", headers=judge).status_code == 401
    assert login(hub, "judge1").status_code == 401


def test_a_new_password_ends_every_session(hub: HubProcess) -> None:
    make(hub, "judge1")
    session = bearer(login(hub, "judge1").json()["session"])
    assert httpx.put(hub.url + "/api/staff/judge1/password", headers=session,
                     json={"password": "another horse 2"}).status_code == 200
    assert httpx.get(hub.url + "/api/me", headers=session).status_code == 401
    assert login(hub, "judge1", "another horse 2").status_code == 200
