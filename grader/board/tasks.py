"""The grading queue on PostgreSQL: procrastinate, on the store's own database.

Why procrastinate: a well-kept task queue that lives in PostgreSQL itself (no second server),
hands each job to one worker (SELECT ... FOR UPDATE SKIP LOCKED), wakes workers with
LISTEN/NOTIFY instead of polling, runs jobs that share a `lock` one at a time (a member's
submissions, in order), and tracks worker heartbeats so that a job whose worker died
(SIGKILL, power loss) can be found (`get_stalled_jobs`) and retried (`retry_job`).

Each worker process runs, beside procrastinate's worker, an upkeep loop on the same event loop
(the grade itself runs in a thread), so it runs every UPKEEP_S even while this worker grades:
- a job whose worker stopped sending heartbeats is retried (procrastinate's own calls), and its
  submission shows `queued` again;
- a submission left `grading` with no job to finish it (its job failed, or the database went
  away under it) goes back to the queue with a new job; queue.py fails it after MAX_ATTEMPTS;
- a queued submission whose job was never deferred (the sender died between its commit and
  the defer) gets one.
A worker rides out a database restart: procrastinate's listener and the pools reconnect by
themselves (a worker of procrastinate's that stops anyway is started again with back-off), the
store (patient, db.py) waits for the database to finish the grade it had, and the worker's Link
says the restart, or a connection the server closed, in one line once the database is back. The store's conditional
updates (queue.py) make sure a submission is finished at most once whatever the queue does.
"""

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from datetime import timedelta

import psycopg
from procrastinate import App, PsycopgConnector
from procrastinate.worker import Worker
from sqlalchemy import text
from sqlalchemy.engine import make_url

from grader.board.clock import now
from grader.board.store import Store

GRADE_TASK = "fastgroup.grade"
HEARTBEAT_S = 2.0  # a worker says it is alive this often...
STALLED_S = 8.0  # ...and one silent for this long is taken for dead: its job is retried
UPKEEP_S = 2.0  # each worker looks for stalled jobs, lost grades and orphans this often
ORPHAN_S = 10  # a queued submission with no job after this long gets one
LOST_S = 5  # a grading submission with no live job after this long goes back to the queue
SCHEMA_LOCK = 0x6667_5155  # advisory lock: one process installs procrastinate's schema
RESTART_MAX_S = 30.0  # a worker stopped by a database fault starts again after at most this
AWAY_SAID_S = 10.0  # a database away this long is said while it is away; a shorter drop, once it is back
LINK_TIMEOUT_S = 5  # the link's connection attempt gives up after this (seconds)


def conninfo(db_url: str) -> str:
    """The libpq URL of the store's SQLAlchemy URL (search_path options kept)."""
    return make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)


NO_LIVE_JOB = (
    "NOT EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.task_name = :task "
    "AND j.status IN ('todo', 'doing') AND (j.args ->> 'submission_id')::int = s.id)"
)
ORPHANS = text(f"SELECT s.id, s.member_id FROM submissions s WHERE s.state = 'queued' AND s.created_at < :before "
               f"AND {NO_LIVE_JOB}")
BACK_IN_QUEUE = text("UPDATE submissions SET state = 'queued', worker = NULL WHERE id = :id AND state = 'grading'")
LOST = text(f"UPDATE submissions s SET state = 'queued', worker = NULL WHERE s.state = 'grading' "
            f"AND s.started_at < :before AND {NO_LIVE_JOB} RETURNING s.id, s.member_id")


def make_app(db_url: str, handler=None) -> App:
    """A procrastinate app on the store's database; `handler(submission_id)` grades (workers only).

    Its pool checks a connection before lending it (procrastinate's default): after a database
    restart the old ones are closed."""
    app = App(connector=PsycopgConnector(conninfo=conninfo(db_url), min_size=1, max_size=4))

    @app.task(name=GRADE_TASK, pass_context=False)
    def grade(submission_id: int) -> None:
        if handler is None:
            raise RuntimeError("this process defers jobs, it does not run them")
        handler(submission_id)

    return app


def install(store: Store) -> None:
    """procrastinate's tables and functions in the store's database, once."""

    def work(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
            conn.exec_driver_sql(App(connector=PsycopgConnector()).schema_manager.get_schema().replace("%", "%%"))

    store.write(work)


class Deferrer:
    """One open app that defers grading jobs (intake.py's, for every submission it takes); jobs of
    one member share a lock: one at a time.

    A defer that fails is not the sender's problem: the submission is stored, and a worker's
    upkeep gives it a job after ORPHAN_S."""

    def __init__(self, db_url: str):
        self.app = make_app(db_url)
        self.app.open()

    def defer(self, submission_id: int, member_id: int) -> None:
        try:
            self.app.configure_task(GRADE_TASK, lock=f"member-{member_id}").defer(submission_id=submission_id)
        except Exception as err:  # noqa: BLE001 - the upkeep defers it later
            print(f"#{submission_id}: its job is deferred later ({type(err).__name__})", file=sys.stderr, flush=True)

    def close(self) -> None:
        self.app.close()


async def upkeep(app: App, store: Store, heartbeats_current: bool = True) -> int:
    """One round: retry stalled jobs, requeue lost grades, give orphans a job; how many were moved.

    Right after the database was away every worker's heartbeat is old: `heartbeats_current`
    False skips the stalled jobs until the live workers have had time to beat again."""
    moved = 0
    await asyncio.to_thread(store.read, lambda conn: conn.execute(text("SELECT 1")))  # away: fails at once
    stalled = await app.job_manager.get_stalled_jobs(task_name=GRADE_TASK, seconds_since_heartbeat=STALLED_S)
    for job in stalled if heartbeats_current else ():
        try:
            await app.job_manager.retry_job(job)
        except Exception:  # noqa: BLE001, S110 - another worker retried it first
            continue
        await asyncio.to_thread(_back_in_queue, store, job.task_kwargs.get("submission_id"))
        moved += 1
    for submission_id, member_id in await asyncio.to_thread(_lost_and_orphans, store):
        await app.configure_task(GRADE_TASK, lock=f"member-{member_id}").defer_async(submission_id=submission_id)
        moved += 1
    return moved


def _back_in_queue(store: Store, submission_id: int) -> None:
    store.write(lambda conn: conn.execute(BACK_IN_QUEUE, {"id": submission_id}))


def _lost_and_orphans(store: Store) -> list:
    """(submission, member) of grades lost (now queued again) and of queued submissions with no job."""
    stamp = now()
    lost = store.write(lambda conn: conn.execute(
        LOST, {"before": stamp - timedelta(seconds=LOST_S), "task": GRADE_TASK}).all())
    orphans = store.read(lambda conn: conn.execute(
        ORPHANS, {"before": stamp - timedelta(seconds=ORPHAN_S), "task": GRADE_TASK}).all())
    return [*lost, *orphans]


def run_worker(db_url: str, handler, say=None) -> None:
    """A procrastinate worker for the grading jobs, one at a time, with its upkeep, until SIGTERM / SIGINT.

    It never exits because the database went away: it says so and starts again with back-off."""
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    for noisy in ("procrastinate", "psycopg.pool"):  # a database restart is one line of ours, not pages of theirs
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    asyncio.run(_serve(db_url, handler, say))


async def _serve(db_url: str, handler, say) -> None:
    app = make_app(db_url, handler)
    link = Link(db_url, say)
    stopping = asyncio.Event()
    current: list[Worker] = []

    def stop() -> None:
        stopping.set()
        for worker in current:
            worker.stop()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    keeper = asyncio.create_task(_upkeep_forever(db_url, stopping, link, say))
    delay = 1.0
    try:
        while not stopping.is_set():
            worker = Worker(
                app=app,
                concurrency=1,
                name=f"fastgroup-{os.uname().nodename}-{os.getpid()}",
                update_heartbeat_interval=HEARTBEAT_S,
                stalled_worker_timeout=STALLED_S,
                delete_jobs="successful",
                install_signal_handlers=False,
            )
            current[:] = [worker]
            cause = "it stopped"
            try:
                async with app.open_async():
                    await worker.run()
            except Exception as err:  # noqa: BLE001 - a database fault: say so and go on
                cause = cause_of(err)
            if stopping.is_set():
                break
            if await link.check():  # the database answers: this is not the link's to say
                say(f"worker: procrastinate's worker stopped ({cause}); starting it again in {delay:.0f} s")
            await _pause(stopping, delay)
            delay = min(delay * 2, RESTART_MAX_S)
    finally:
        stopping.set()
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        await link.close()


class Link:
    """The worker's own connection to its database, looked at every UPKEEP_S (and whenever the
    worker stops): the one place that tells the organiser about the database.

    procrastinate and the connection pools reconnect quietly, so without it a database restart, or
    a connection the server closed, went unsaid. A drop that comes back is one line, said when it is
    back (whether the server restarted, how long it was away); only one away for more than
    AWAY_SAID_S is said while it lasts as well, once."""

    def __init__(self, db_url: str, say):
        self.conninfo, self.say = conninfo(db_url), say
        self.conn: psycopg.AsyncConnection | None = None
        self.server_started = None  # pg_postmaster_start_time(): a new one is a restart
        self.away_since: float | None = None  # time.monotonic()
        self.away_at = now()
        self.cause, self.said_away = "", False
        self.back_at = float("-inf")  # time.monotonic() it last came back
        self.lock = asyncio.Lock()

    async def check(self) -> bool:
        """Whether the database answers now; a drop is noticed here and, once it is over, said."""
        async with self.lock:
            for fresh in (False, True):  # a closed connection is replaced at once: a cut one comes back here
                try:
                    async with asyncio.timeout(2 * LINK_TIMEOUT_S):  # a server that takes the connection, silent
                        if fresh or self.conn is None or self.conn.closed:
                            await self.close()
                            self.conn = await psycopg.AsyncConnection.connect(
                                self.conninfo, autocommit=True, connect_timeout=LINK_TIMEOUT_S)
                        cursor = await self.conn.execute("SELECT pg_postmaster_start_time()")
                        started = (await cursor.fetchone())[0]
                except (psycopg.Error, TimeoutError) as err:
                    self._lost(cause_of(err) if str(err) else f"no answer in {2 * LINK_TIMEOUT_S} s")
                    continue
                self._answered(started)
                return True
            return False

    def _lost(self, cause: str) -> None:
        if self.away_since is None:
            self.away_since, self.away_at, self.cause, self.said_away = time.monotonic(), now(), cause, False
        if not self.said_away and time.monotonic() - self.away_since >= AWAY_SAID_S:
            self.say(f"worker: the database is away since {self.away_at:%H:%M:%S} ({self.cause}): waiting for it; "
                     "any grade in hand goes on and is stored when it is back")
            self.said_away = True

    def _answered(self, started) -> None:
        restarted = self.server_started is not None and started != self.server_started
        self.server_started = started
        if self.away_since is None and not restarted:
            return
        what = "the database restarted" if restarted else "the database closed this worker's connection"
        away = "between two looks" if self.away_since is None else \
            f"away from {self.away_at:%H:%M:%S} for {time.monotonic() - self.away_since:.0f} s: {self.cause}"
        self.say(f"worker: {what} ({away}); it is back and grading goes on")
        self.away_since, self.back_at = None, time.monotonic()

    async def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                await self.conn.close()
            self.conn = None


def cause_of(err: BaseException) -> str:
    """An exception in a few words: its kind and the first line of what it says."""
    words = str(err).strip().splitlines()[0][:150] if str(err).strip() else ""
    return f"{type(err).__name__}: {words}" if words else type(err).__name__


async def _upkeep_forever(db_url: str, stopping: asyncio.Event, link: Link, say) -> None:
    """The upkeep every UPKEEP_S on its own connection pool, through database restarts; the link
    says what happens to the database, this only what fails while the database answers."""
    keeper_app = make_app(db_url)
    store, failing = None, False
    while not stopping.is_set():
        try:
            store = store or await asyncio.to_thread(Store.open, db_url)
            async with keeper_app.open_async():
                while not stopping.is_set():
                    if await link.check():
                        # right after the database was away every heartbeat is old: give them time to beat
                        trusted = time.monotonic() - link.back_at >= 2 * STALLED_S
                        await upkeep(keeper_app, store, heartbeats_current=trusted)
                        failing = False
                    await _pause(stopping, UPKEEP_S)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - the database, most likely: the link says so
            if await link.check() and not failing:
                say(f"worker: the upkeep failed ({cause_of(err)}); it tries again every {UPKEEP_S:.0f} s")
            failing = True
            await _pause(stopping, UPKEEP_S)
    if store is not None:
        store.close()


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less when asked to stop."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
