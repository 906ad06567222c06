"""The grading queue on PostgreSQL: procrastinate, on the store's own database.

Why procrastinate: a well-kept task queue that lives in PostgreSQL itself (no second server),
hands each job to one worker (SELECT ... FOR UPDATE SKIP LOCKED), wakes workers with
LISTEN/NOTIFY instead of polling, runs jobs that share a `lock` one at a time (a member's
submissions, in order), and tracks worker heartbeats so that a job whose worker died
(SIGKILL, power loss) can be found and retried. The retry is a periodic procrastinate task
that every worker runs; it also queues a job for a submission whose job was never deferred
(the submitting process died between its commit and the defer), so none is lost. The store's
conditional updates (queue.py) make sure a submission is finished at most once whatever the
queue does.
"""

import asyncio
import os
from datetime import UTC, datetime, timedelta

from procrastinate import App, PsycopgConnector
from sqlalchemy import text
from sqlalchemy.engine import make_url

from grader.board.store import Store

GRADE_TASK = "fastgroup.grade"
HEARTBEAT_S = 2.0  # a worker says it is alive this often...
STALLED_S = 10.0  # ...and one silent for this long is taken for dead: its job is retried
RETRY_CRON = "* * * * * */5"  # every 5 seconds (procrastinate's 6th cron field)
ORPHAN_S = 30  # a queued submission with no job after this long gets one
SCHEMA_LOCK = 0x6667_5155  # advisory lock: one process installs procrastinate's schema


def conninfo(db_url: str) -> str:
    """The libpq URL of the store's SQLAlchemy URL (search_path options kept)."""
    return make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)


ORPHANS = text(
    "SELECT s.id, s.member_id FROM submissions s WHERE s.state = 'queued' "
    "AND s.created_at < :before AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j "
    "WHERE j.task_name = :task AND j.status IN ('todo', 'doing') "
    "AND (j.args ->> 'submission_id')::int = s.id)"
)


def make_app(db_url: str, handler=None) -> App:
    """A procrastinate app on the store's database; `handler(submission_id)` grades (workers only)."""
    app = App(connector=PsycopgConnector(conninfo=conninfo(db_url), min_size=1, max_size=4))

    @app.task(name=GRADE_TASK, pass_context=False)
    def grade(submission_id: int) -> None:
        if handler is None:
            raise RuntimeError("this process defers jobs, it does not run them")
        handler(submission_id)

    @app.periodic(cron=RETRY_CRON)
    @app.task(name="fastgroup.retry_stalled", pass_context=False)
    async def retry_stalled(timestamp: int) -> None:
        """Jobs whose worker stopped sending heartbeats go back to the queue."""
        for job in await app.job_manager.get_stalled_jobs(task_name=GRADE_TASK, seconds_since_heartbeat=STALLED_S):
            await app.job_manager.retry_job(job)
        for submission_id, member_id in await asyncio.to_thread(orphans, db_url):
            await grade.configure(lock=f"member-{member_id}").defer_async(submission_id=submission_id)

    return app


def orphans(db_url: str) -> list:
    """(submission, member) of queued submissions that have waited ORPHAN_S with no job."""
    before = datetime.now(UTC) - timedelta(seconds=ORPHAN_S)
    with Store.open(db_url) as store:
        return store.read(lambda conn: conn.execute(ORPHANS, {"before": before, "task": GRADE_TASK}).all())


def install(store: Store) -> None:
    """procrastinate's tables and functions in the store's database, once."""

    def work(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
            conn.exec_driver_sql(App(connector=PsycopgConnector()).schema_manager.get_schema().replace("%", "%%"))

    store.write(work)


def defer(db_url: str, submission_id: int, member_id: int) -> None:
    """Queue the grading of one submission; jobs of one member share a lock: one at a time."""
    app = make_app(db_url)
    with app.open():
        app.configure_task(GRADE_TASK, lock=f"member-{member_id}").defer(submission_id=submission_id)


def run_worker(db_url: str, handler) -> None:
    """A procrastinate worker for the grading jobs until SIGTERM / SIGINT (one job at a time)."""
    app = make_app(db_url, handler)
    app.run_worker(
        concurrency=1,
        name=f"fastgroup-{os.uname().nodename}-{os.getpid()}",
        update_heartbeat_interval=HEARTBEAT_S,
        stalled_worker_timeout=STALLED_S,
        delete_jobs="successful",
    )
