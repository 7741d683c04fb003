"""Documents the hub writes from the record: a hearing's 笔录 (``record``:
text, Word, PDF, JSON, WebVTT) and a case's paperwork (the notice with a
party's QR code, the proof of electronic service, the mediation agreement,
drafts from the record). Built from the states alone; no web framework is
imported here."""
