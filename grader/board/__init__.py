"""The group's board: the store (schema, database, writes, queries), payloads, submit, launch."""
