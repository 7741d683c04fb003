"""A hearing page's way back in when the node it was sent to dies.

In a cluster a hearing page is redirected to its authority's node, where
the hearing's media runs (``routing``). The page then lives on that node's
address: its websocket, its cookie holding the join link's token, all of
it. If that node dies, another node takes the hearing over within seconds,
but the page keeps knocking at the dead address, and could not go anywhere
else by itself: its policy lets it talk only to its own origin, and its
token sits in an HttpOnly cookie of that origin alone.

So the node a join link first reaches (the entry: a front address, or any
node) leaves the page two things on its way through:

* the entry's address in the redirect (``via``), signed with the cluster's
  secret so that a page follows only an address the cluster vouches for
  (never one a crafted link put there), and shown to the page's script in
  a ``<meta name="entry">``;
* the participant's token in a cookie of its own origin (``ct_resume_…``:
  HttpOnly, for that hearing's page path alone, and SameSite=Lax so that a
  page on another node's address can bring the browser back with it).

A page whose node stays unreachable goes back to the entry (``?as=``),
which finds the token in that cookie and redirects the page to whichever
node is now the authority, token in the query as on first opening; there
the page takes its own cookie and drops the token from the address bar.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import urllib.parse

#: The entry's address and its signature, in a redirected page's query.
VIA, VIA_SIG = "via", "via_sig"
#: The entry's cookie of a participant's token, for the page's way back.
RESUME_PREFIX = "ct_resume_"
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-]+(?::\d{1,5})?|https?://\[[0-9A-Fa-f:.]+\](?::\d{1,5})?")


def resume_cookie(participant_id: str) -> str:
    return RESUME_PREFIX + participant_id


def origin_of(scheme: str, host: str) -> str | None:
    """The origin a request reached (its scheme and Host), or None if the
    Host header is not one an address can be built from."""
    origin = f"{scheme}://{host}"
    return origin if _ORIGIN.fullmatch(origin) else None


def signature(secret: bytes, hearing_id: str, origin: str) -> str:
    return hmac.new(secret, f"entry {hearing_id} {origin}".encode(), hashlib.sha256).hexdigest()[:32]


def via_params(secret: bytes, hearing_id: str, origin: str) -> list[tuple[str, str]]:
    """The query parameters that name ``origin`` as a page's entry."""
    return [(VIA, origin), (VIA_SIG, signature(secret, hearing_id, origin))]


def vouched(secret: bytes, hearing_id: str, query: str) -> str | None:
    """The entry a page's query names, if the cluster signed it for this
    hearing; otherwise None."""
    params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    origin, sig = params.get(VIA, ""), params.get(VIA_SIG, "")
    if not _ORIGIN.fullmatch(origin) or not hmac.compare_digest(sig, signature(secret, hearing_id, origin)):
        return None
    return origin
