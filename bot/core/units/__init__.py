"""The bot core's units of work: each takes a session and plain values, returns plain values.

``storage.database.Database.run`` runs them off the event loop, one short transaction each.
"""
