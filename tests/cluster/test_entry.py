"""A hearing page's way back in (courtroom/cluster/entry.py): the entry's
signed address in the redirect, the token kept in the entry's cookie, and
the way back to whichever node holds the hearing now."""

from __future__ import annotations

import time
import urllib.parse
from typing import Callable

import httpx

from courtroom.cluster import entry
from courtroom.cluster.routing import cluster_secret
from storage.tokens import hash_token
from tests.support import ADMIN, HubProcess, invites_by_role

#: What the nodes of these tests sign with (all share the admin token).
SECRET = cluster_secret(hash_token(ADMIN)).encode()


def test_only_an_entry_the_cluster_signed_for_this_hearing_is_vouched_for() -> None:
    secret, other = b"s" * 32, b"t" * 32
    query = urllib.parse.urlencode(entry.via_params(secret, "h-0123456789abcdef", "http://10.1.0.11:8000"))
    assert entry.vouched(secret, "h-0123456789abcdef", query) == "http://10.1.0.11:8000"
    assert entry.vouched(other, "h-0123456789abcdef", query) is None  # another cluster's
    assert entry.vouched(secret, "h-fedcba9876543210", query) is None  # another hearing's
    forged = query.replace("10.1.0.11", "evil.example")
    assert entry.vouched(secret, "h-0123456789abcdef", forged) is None
    assert entry.vouched(secret, "h-0123456789abcdef", "") is None


def test_an_origin_is_built_only_from_a_plain_host() -> None:
    assert entry.origin_of("https", "hub.court.example") == "https://hub.court.example"
    assert entry.origin_of("http", "10.1.0.11:8000") == "http://10.1.0.11:8000"
    assert entry.origin_of("http", "[::1]:8000") == "http://[::1]:8000"
    for host in ("", 'a"b', "a/b", "a b", "a:b:c", "x.example:8000/evil"):
        assert entry.origin_of("http", host) is None, host


def params(location: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def test_the_entry_sends_the_page_on_with_its_way_back_and_takes_it_back_after_a_node_dies(
        nodes: Callable[[int], list[HubProcess]]) -> None:
    a, b = nodes(2)
    h = b.create_hearing()  # b holds it
    hid, inv = h["hearing_id"], invites_by_role(h)
    judge, clerk = inv["judge"], inv["clerk"]
    page = f"/hearings/{hid}"

    first = httpx.get(a.url + page, params={"token": judge["token"]})
    assert first.status_code == 307
    location = first.headers["location"]
    assert location.startswith(f"{b.url}{page}?")
    given = params(location)
    assert given["token"] == judge["token"] and given["via"] == a.url and given["via_sig"]
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"ct_resume_{judge['participant_id']}={judge['token']}")
    assert f"Path={page}" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie

    # The authority's page names the entry to its script; a forged one is not named.
    assert f'<meta name="entry" content="{a.url}">' in httpx.get(location).text
    forged = location.replace(urllib.parse.quote(a.url, safe=""), urllib.parse.quote("http://evil.example", safe=""))
    assert forged != location
    assert '<meta name="entry" content="">' in httpx.get(forged).text

    # Back through the entry with the cookie: on to the authority, token and all.
    jar = {f"ct_resume_{judge['participant_id']}": judge["token"]}
    back = httpx.get(a.url + page, params={"as": judge["participant_id"]}, cookies=jar)
    assert back.status_code == 307 and params(back.headers["location"])["token"] == judge["token"]
    # Another participant's token under the judge's name is not carried on.
    wrong = {f"ct_resume_{judge['participant_id']}": clerk["token"]}
    back = httpx.get(a.url + page, params={"as": judge["participant_id"]}, cookies=wrong)
    assert back.status_code == 307 and "token" not in params(back.headers["location"])

    # The authority dies: the entry holds the hearing now and serves the page
    # itself, taking the token from its cookie into the page's own.
    b.kill()
    deadline = time.monotonic() + 15
    while True:
        served = httpx.get(a.url + page, params={"as": judge["participant_id"]}, cookies=jar)
        if served.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert served.status_code == 200, served.headers
    assert f'content="{judge["participant_id"]}"' in served.text
    assert served.cookies.get(f"ct_{judge['participant_id']}") == judge["token"]


def test_a_screen_on_a_node_that_only_mirrors_the_hearing_is_sent_on_to_its_media(
        nodes: Callable[[int], list[HubProcess]]) -> None:
    import asyncio

    from tests.support import Client

    a, b = nodes(2)
    h = a.create_hearing()  # a holds it; b only mirrors it
    hid, judge = h["hearing_id"], invites_by_role(h)["judge"]

    async def main() -> None:
        screen = await Client.connect(b.ws_url(hid, judge["token"]))
        await screen.send_json({"type": "rtc.join"})
        await screen.wait_for(lambda: screen.of_type("error"), timeout=10)
        assert screen.of_type("error")[0]["error"]["code"] == "moved"
        assert (await screen.op({"kind": "segment.add", "text": "现在开庭。"}))["type"] == "ack"  # the rest goes on
        await screen.close()
    asyncio.run(main())

    # The page opened again on b (its own cookie there) goes on to a with the
    # token, and keeps the entry it was first given rather than b.
    page = f"/hearings/{hid}"
    jar = {f"ct_{judge['participant_id']}": judge["token"]}
    again = httpx.get(b.url + page, params={"as": judge["participant_id"]}, cookies=jar)
    assert again.status_code == 307
    given = params(again.headers["location"])
    assert again.headers["location"].startswith(a.url + page) and given["token"] == judge["token"]
    assert given["via"] == b.url
    entry_params = {"via": "http://front.example", "via_sig": entry.signature(SECRET, hid, "http://front.example")}
    kept = httpx.get(b.url + page, params={"as": judge["participant_id"], **entry_params}, cookies=jar)
    assert params(kept.headers["location"])["via"] == "http://front.example"
