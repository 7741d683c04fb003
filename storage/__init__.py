"""Where the hub keeps its logs: the SQLite store (``sqlite``), outside the
pure ``transcript`` core so that a second backend is a new module here."""
