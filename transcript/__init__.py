"""The shared live transcript (庭审笔录): a pure state machine, its hash-chained
log, storage and export. Imports nothing from the web or media layers."""

from .errors import OpError
from .model import Annotation, HearingInfo, Participant, Segment, Signature
from .roles import Role, Site
from .state import TranscriptState

__all__ = ["Annotation", "HearingInfo", "OpError", "Participant", "Role", "Segment", "Signature",
           "Site", "TranscriptState"]
