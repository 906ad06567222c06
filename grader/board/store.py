"""The group's store: members and their submissions, in SQLite (default) or PostgreSQL.

One object for callers, assembled from the modules that each do one job: schema.py (the
tables), db.py (engine, transactions, retry), writes.py (members, submissions), queue.py (the
grading queue) and queries.py (the board's reads). Each part is built on db.Transactions, the
declared interface (read, write) that Database provides; times come from clock.py.
"""

from grader.board.db import Database
from grader.board.queries import GroupReads, Queries
from grader.board.queue import Queue
from grader.board.writes import Writes


class Store(Database, Writes, Queue, Queries, GroupReads):
    """Members and submissions behind one SQLAlchemy engine."""
