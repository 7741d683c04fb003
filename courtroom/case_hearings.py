"""A case's evidence in its hearings: every item a party filed in the case
appears in the evidence panel of each hearing of the case, filed there by
the same party's seat, so the judge shows and pastes it as any other.

Each item goes in as ``evidence.add`` with the op id ``case-<item id>``:
sending it again is answered from the hearing's log, so this runs after
every filing and every scheduling without ever adding an item twice.
"""

from __future__ import annotations

import asyncio
import logging

from transcript.ops import MAX_NAME

from .answers import submit
from .casespace import CaseSpace
from .evidence import EvidenceStore
from .hub import Hub

log = logging.getLogger(__name__)


async def show_in_hearings(hub: Hub, space: CaseSpace, store: EvidenceStore) -> int:
    """Bring the case's evidence into each of its hearings; how many items
    were added now. Failures are logged, never raised: the case's own
    action has already succeeded."""
    added = 0
    for hearing in list(space.state.hearings):
        try:
            room = await hub.room(hearing.hearing_id)
        except Exception as err:  # noqa: BLE001 - a hearing that cannot load now is tried next time
            log.warning("case %s: hearing %s unavailable for its evidence: %s", space.case_id, hearing.hearing_id, err)
            continue
        if room is None or room.state.hearing is None:
            continue
        for item in list(space.state.exhibits.values()):
            seat = hearing.seats.get(str(item.filer.get("party_id")))
            op_id = f"case-{item.id}"
            if seat is None or room.answered(seat, op_id):
                continue
            try:
                await asyncio.to_thread(store.adopt, space.case_id, hearing.hearing_id, item.file.sha256)
                await submit(room, room.state.participant(seat), op_id,
                             {"kind": "evidence.add", "sha256": item.file.sha256,
                              "name": f"{item.id} {item.title}"[:MAX_NAME], "media_type": item.file.media_type,
                              "size": item.file.size})
                added += 1
            except Exception as err:  # noqa: BLE001 - refused (quota, waiting room) or unavailable: logged
                log.warning("case %s: evidence %s not shown in hearing %s: %s", space.case_id, item.id,
                            hearing.hearing_id, err)
    return added
