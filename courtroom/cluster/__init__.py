"""Several hub nodes as one hub: each stream (a hearing, a case) has one
authority at a time, by lease (``storage.leases``), and every other node
that has screens of it keeps a mirror, fed through Redis.

``bus``: Redis pub/sub between nodes (a channel per stream, an inbox per
node). ``node``: this process as a node (its leases, what it publishes and
forwards). ``mirror``: a stream served here but ordered elsewhere.
"""
