"""The group's leaderboard page (Streamlit): leaderboard_app.py at the repo's root runs `main`.

UI only. The numbers come from grader.board.store's queries. Uploads of code (files or a zip) and
quiz answers go through grader.board.code and the board's intake (intake.py), the same path as
the API and `fastgroup submit`, for the member whose token was typed (identity.py); the page then
follows the submission from queued to graded. The ranking
holds verified results only; self-reported ones (where the organiser accepts them) are listed
apart. Names and payload text come from members, so they are shown as text: dataframes, code
blocks, or escaped markdown, never HTML.
"""

import json
import os
import re
from datetime import UTC, datetime

import altair as alt
import pandas as pd
import streamlit as st

from grader.board import code, identity
from grader.board.agenda import agenda_markdown, quiz_words
from grader.board.intake import Intake
from grader.board.payload import quiz_size
from grader.board.queries import untouched_steps
from grader.board.store import Store
from grader.board.submit import confirmation, submit_payload
from grader.core.errors import KitError
from grader.core.results import Results
from grader.core.steps import STEPS

REFRESH_S = 5  # the open page rereads the store this often...
CACHE_S = 3  # ...and all viewers share one read for this long
QUIZ_MAX = quiz_size()
# The same words as `fastgroup list`: words, not emoji (a machine without an emoji font shows boxes).
STATUS_LABEL = {"completed": "done", "attempted": "failing", "not started": "not started"}
MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~$&:])")
STATE_LABEL = {"queued": "queued", "grading": "grading", "graded": "graded", "failed": "failed"}
NONE = ""  # an empty cell: blank, never "None"
GRADING_STALLED_S = 300  # a grade takes about a minute: one grading this long has likely lost its worker
QUEUED_STALLED_S = 120  # a submission waiting this long while nothing is being graded has no worker
SEND_CODE, SEND_QUIZ, SEND_RESULTS = "Exercise files (.py) or a zip", "Quiz answers (.toml or .json)", "Results file"


def plural(n: int, noun: str) -> str:
    """'1 member', '2 members'."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def as_text(value: str) -> str:
    """Escape a member's string for elements that render markdown (st.error, st.success...)."""
    return MARKDOWN_SPECIALS.sub(r"\\\1", value)


@st.cache_resource(show_spinner=False)
def open_store(url: str | None) -> Store:
    return Store.open(url)


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def load_board(url: str | None):
    store = open_store(url)
    return store.leaderboard(), store.points_over_time(), store.step_completion()


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def load_apart(url: str | None):
    """The queue and the self-reported list: what the board shows beside the ranking."""
    store = open_store(url)
    return store.queue(), store.self_reported()


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def load_quiz(url: str | None) -> list[float]:
    return open_store(url).quiz_scores()


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def load_member(url: str | None, name: str):
    return open_store(url).member_detail(name)


def whole(value) -> str:
    """Points as the kit counts them (whole numbers), or an empty cell."""
    return NONE if value is None else f"{value:.0f}"


def when(stamp: datetime | None, now: datetime | None = None) -> str:
    """'06:24 UTC, 3 min ago' (today) or '2026-11-24 09:53 UTC', or an empty cell."""
    if stamp is None:
        return NONE
    now = now or datetime.now(UTC)
    ago = max(0, int((now - stamp).total_seconds()))
    if ago < 86400:
        age = f"{ago} s ago" if ago < 120 else f"{ago // 60} min ago" if ago < 7200 else f"{ago // 3600} h ago"
        return f"{stamp:%H:%M} UTC, {age}"
    return f"{stamp:%Y-%m-%d %H:%M} UTC"


def board_frame(rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Rank": [r.rank for r in rows],  # ties share a rank
            "Member": [r.name for r in rows],
            "Points": [NONE if r.points is None else f"{r.points:.0f}/{r.max_points:.0f}" for r in rows],
            "Steps": [r.steps_completed for r in rows],
            "Best accuracy": [NONE if r.best_accuracy is None else f"{r.best_accuracy:.1%}" for r in rows],
            "Quiz": [NONE if r.quiz is None else f"{r.quiz:.0f}/{QUIZ_MAX}" for r in rows],
            "Submissions": [r.submissions for r in rows],
            "Last activity": [when(r.last_activity) for r in rows],
        }
    )


def show_table(rows) -> None:
    total = rows[0].steps_total if rows else len(STEPS)
    st.dataframe(
        board_frame(rows),
        hide_index=True,
        width="stretch",
        column_config={
            "Rank": st.column_config.NumberColumn("#", width="small", help="Members with equal points share a rank"),
            "Member": st.column_config.TextColumn("Member"),
            "Points": st.column_config.TextColumn("Points", help="Best verified grade, out of its maximum"),
            "Steps": st.column_config.ProgressColumn(
                "Steps completed",
                help="Core steps whose checks all passed in some verified grade",
                min_value=0,
                max_value=total,
                format=f"%d/{total}",
            ),
            "Best accuracy": st.column_config.TextColumn(
                "Best accuracy", help="Highest accuracy over the training steps (per step: Member tab)"
            ),
            "Quiz": st.column_config.TextColumn("Quiz", help="Best verified quiz score"),
        },
    )


def queue_note(row, now: datetime, grading: int) -> str:
    """What the organiser should know about one queued or grading submission."""
    if row.state == "grading" and row.started_at and (now - row.started_at).total_seconds() > GRADING_STALLED_S:
        return (f"STALLED: grading for {int((now - row.started_at).total_seconds()) // 60} min; a grade takes about "
                "a minute: check that worker's terminal (PostgreSQL retries it by itself)")
    if row.state == "queued" and not grading and (now - row.created_at).total_seconds() > QUEUED_STALLED_S:
        return "STALLED: waiting with no worker grading: start one (`fastgroup worker`, or leaderboard --workers 1)"
    if row.attempts > 1:
        return f"attempt {row.attempts}: an earlier one stopped before it finished"
    return ""


def show_queue(rows) -> None:
    st.subheader("Queue")
    if not rows:
        st.caption("Nothing waiting: every submission is graded.")
        return
    now = datetime.now(UTC)
    grading = sum(1 for r in rows if r.state == "grading")
    st.dataframe(
        pd.DataFrame(
            {
                "#": [r.submission_id for r in rows],
                "Member": [r.member for r in rows],
                "Kind": [r.kind for r in rows],
                "Source": [r.source or NONE for r in rows],
                "State": [r.state for r in rows],
                "Sent": [when(r.created_at, now) for r in rows],
                "Grading since": [when(r.started_at, now) if r.state == "grading" else NONE for r in rows],
                "Worker": [r.worker or NONE for r in rows],
                "Attempts": [r.attempts for r in rows],
                "What to do": [queue_note(r, now, grading) or NONE for r in rows],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def show_charts(rows, points, completion, quiz) -> None:
    left, right = st.columns(2)
    with left:
        st.subheader("Points over time")
        names = [r.name for r in rows]
        chosen = st.multiselect("Members", names, default=names[:10], key="chart_members")
        frame = pd.DataFrame(points, columns=["Member", "Time", "Points"])
        frame = frame[frame["Member"].isin(chosen)]
        if frame.empty:
            st.caption("No grade submissions yet.")
        else:
            st.altair_chart(
                alt.Chart(frame)
                .mark_line(point=True, interpolate="step-after")
                .encode(
                    x=alt.X("Time:T", title="UTC",
                            axis=alt.Axis(format="%d %b %H:%M", labelOverlap=True, labelAngle=-30, tickCount=6)),
                    y=alt.Y("Points:Q", scale=alt.Scale(domain=[0, 100])),
                    color="Member:N",
                    tooltip=["Member", alt.Tooltip("Time:T", format="%Y-%m-%d %H:%M:%S"), "Points"],
                ),
                width="stretch",
            )
    with right:
        st.subheader("Where the group is")
        titles = {s.id: s.title for s in STEPS}
        frame = pd.DataFrame([(titles[s], n) for s, n in completion], columns=["Step", "Members finished"])
        st.altair_chart(
            alt.Chart(frame)
            .mark_bar()
            .encode(
                y=alt.Y("Step:N", sort=list(frame["Step"]), title=None, axis=alt.Axis(labelLimit=250)),
                x=alt.X("Members finished:Q", axis=alt.Axis(tickMinStep=1),
                        scale=alt.Scale(domain=[0, max(1, len(rows))])),  # against the group's size
                tooltip=["Step", "Members finished"],
            ),
            width="stretch",
        )
    st.subheader("Quiz scores")
    if not quiz:
        st.caption("Nobody has submitted the quiz yet.")
        return
    st.altair_chart(
        alt.Chart(pd.DataFrame({"Best quiz score": quiz}))
        .mark_bar()
        .encode(
            x=alt.X("Best quiz score:Q", bin=alt.Bin(extent=[0, QUIZ_MAX + 1], step=1)),
            y=alt.Y("count():Q", title="Members", axis=alt.Axis(tickMinStep=1)),
        ),
        width="stretch",
    )


@st.fragment(run_every=REFRESH_S)
def board_tab(url: str | None) -> None:
    try:
        rows, points, completion = load_board(url)
        quiz = load_quiz(url)
    except KitError as err:  # the database went away while the page was open
        st.error(as_text(str(err)))
        return
    if not rows:
        st.info("No members yet: the organiser adds them with `fastgroup members add NAME`.")
        return
    queue, apart = load_apart(url)
    done = sum(1 for r in rows if r.submissions)
    st.caption(
        f"{plural(len(rows), 'member')}, {done} with submissions. Every score here is verified: graded by "
        f"the board from the member's code. Refreshes every {REFRESH_S} s."
    )
    show_table(rows)
    show_queue(queue)
    show_charts(rows, points, completion, quiz)
    if apart:
        st.subheader("Self-reported (not verified, not ranked)")
        st.dataframe(
            pd.DataFrame(
                {
                    "Member": [r.name for r in apart],
                    "Kind": [r.kind for r in apart],
                    "Best score": [f"{r.score:.0f}/{r.max_score:.0f}" for r in apart],
                    "Last": [when(r.last) for r in apart],
                }
            ),
            hide_index=True,
            width="stretch",
        )


@st.fragment(run_every=REFRESH_S)
def member_tab(url: str | None) -> None:
    try:
        rows = load_board(url)[0]
        if not rows:
            st.info("No members yet.")
            return
        names = [r.name for r in rows]
        asked = st.query_params.get("member")
        name = st.selectbox("Member", names, index=names.index(asked) if asked in names else 0, key="member")
        st.query_params["member"] = name  # each member's page has its own address
        row = next(r for r in rows if r.name == name)
        detail = load_member(url, name)
    except KitError as err:
        st.error(as_text(str(err)))
        return
    a, b, c = st.columns(3)
    a.metric("Best points", NONE if row.points is None else f"{row.points:.0f}/{row.max_points:.0f}")
    b.metric("Core steps completed (best)", f"{row.steps_completed}/{row.steps_total}")
    c.metric("Best quiz", NONE if row.quiz is None else f"{row.quiz:.0f}/{QUIZ_MAX}")
    if detail.latest_quiz_payload:
        said = list(quiz_words(detail.latest_quiz_payload).values())
        st.caption(f"Latest quiz: {said.count('right')} right, {said.count('wrong')} missed (answered wrongly), "
                   f"{said.count('unanswered')} not answered yet.")
    bonus = {s.id for s in STEPS if s.bonus}
    st.subheader("Best: each step in any verified grade")
    st.dataframe(
        pd.DataFrame(
            {
                "Step": [s.step_id + (" (bonus)" if s.step_id in bonus else "") for s in detail.steps],
                "Title": [s.title for s in detail.steps],
                "Status": [STATUS_LABEL[s.status] for s in detail.steps],
                "Best accuracy": [NONE if s.best_accuracy is None else f"{s.best_accuracy:.1%}" for s in detail.steps],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    latest = next((h for h in detail.history if h.kind == "grade" and h.state == "graded"
                   and h.origin == "verified"), None)
    if detail.latest_grade_payload and latest:
        points = step_points(detail.latest_grade_payload)
        tests = json.loads(detail.latest_grade_payload)["tests"]
        came = f" from {as_text(latest.source)}" if latest.source else ""
        st.subheader(f"Latest: verified grade #{latest.submission_id}{came}, "
                     f"{when(latest.graded_at or latest.created_at)}, {latest.score:.0f}/{latest.max_score:.0f}")
        st.dataframe(
            pd.DataFrame({"Step": list(points), "Points": list(points.values())}),
            hide_index=True,
            width="stretch",
        )
        columns = ["number", "name", "score", "max_score", "output"]
        stubs = untouched_steps(detail.latest_grade_payload)
        failing = [t for t in tests if t["status"] != "passed" and t["tags"][0] not in stubs]
        core_failing = [t for t in failing if t["tags"][0] not in bonus]
        bonus_failing = [t for t in failing if t["tags"][0] in bonus]
        if stubs:
            st.caption("Not started in the latest grade (the file is still its stub): "
                       + ", ".join(step for step in points if step in stubs))
        if core_failing:
            st.subheader("Core checks not passing in the latest grade")
            st.dataframe(pd.DataFrame(core_failing)[columns], hide_index=True, width="stretch")
        elif not stubs & {s.id for s in STEPS if not s.bonus}:
            st.success("Every core check passed in the latest grade.")
        if bonus_failing:
            st.subheader("Bonus checks not passing (optional: not counted in the points)")
            st.dataframe(pd.DataFrame(bonus_failing)[columns], hide_index=True, width="stretch")
        with st.expander("Latest grade submission (JSON)"):
            st.code(detail.latest_grade_payload, language="json")
    if detail.history:
        st.subheader("Submissions")
        st.dataframe(
            pd.DataFrame(
                {
                    "#": [h.submission_id for h in detail.history],
                    "Kind": [h.kind for h in detail.history],
                    "Source": [h.source or NONE for h in detail.history],
                    "State": [STATE_LABEL[h.state] for h in detail.history],
                    "Origin": [h.origin for h in detail.history],
                    "Points": [NONE if h.score is None else f"{h.score:.0f}/{h.max_score:.0f}" for h in detail.history],
                    "Why it failed": [h.reason or NONE for h in detail.history],
                    "Sent": [when(h.created_at) for h in detail.history],
                }
            ),
            hide_index=True,
            width="stretch",
        )


@st.fragment(run_every=REFRESH_S * 6)
def agenda_tab(url: str | None) -> None:
    try:
        text = agenda_markdown(open_store(url))
    except KitError as err:
        st.error(as_text(str(err)))
        return
    st.caption("For the organiser: from the members' verified grades; download its Markdown for your meeting "
               "notes, or print the same with `fastgroup board --agenda`.")
    st.download_button("Download the agenda (Markdown)", text, file_name="next-meetup.md", mime="text/markdown")
    with st.container(border=True):
        st.markdown(text)  # names and topics are escaped for Markdown by agenda.py: shown as text
    with st.expander("The agenda's Markdown, to copy"):
        st.code(text, language="markdown", wrap_lines=True)


def step_points(payload: str | None) -> dict[str, str]:
    """'6/8' per step of a results JSON: the per-step lines of the CLI's report."""
    if not payload:
        return {}
    sums = Results.model_validate_json(payload).step_points()
    return {step: f"{a:g}/{b:g}" for step, (a, b) in sums.items()}


@st.fragment(run_every=1)
def follow(url: str | None, submission_id: int) -> None:
    """The state of the member's submission, from queued to graded, then its score."""
    try:
        found = open_store(url).submission(submission_id)
    except KitError as err:
        st.error(as_text(str(err)))
        return
    if found is None:
        return
    row, _payload = found
    line = f"Submission #{submission_id}: {STATE_LABEL[row.state]}"
    if row.state == "graded":
        st.success(f"{line}, {row.score:.0f}/{row.max_score:.0f}, verified. The Member tab has the per-step report.")
    elif row.state == "failed":
        st.error(as_text(f"{line}: {row.reason}"))
    else:
        st.info(f"{line} (this updates by itself)")


@st.cache_resource(show_spinner=False)
def open_intake(url: str | None) -> Intake:
    """The board's intake for the page's uploads (opened once: on PostgreSQL it holds a queue's connection)."""
    return Intake(open_store(url), log=lambda line: print(line, flush=True))


def send(url: str | None, what: str, token: str, uploads: list) -> tuple[str, int | None]:
    """Queue (or, for a results file, store) what was uploaded: (confirmation, submission to follow)."""
    token = identity.typed(token)  # never a FASTGROUP_TOKEN set on the server
    named = [(u.name, u.getvalue()) for u in uploads]
    if what == SEND_RESULTS:
        if len(named) != 1:
            raise KitError("choose one results file")
        return submit_payload(named[0][1], token=token, db_url=url, source=named[0][0]), None
    if what == SEND_QUIZ:
        if len(named) != 1:
            raise KitError("choose one answers file (`fastgroup quiz --template FILE` writes one to fill in)")
        kind, files, source = "quiz", code.answers(*named[0]), named[0][0]
    else:
        zips = [name for name, _ in named if name.lower().endswith(".zip")]
        kind, files, source = "grade", code.from_upload(named), zips[0] if len(zips) == 1 else None
    receipt = open_intake(url).take(token, kind, files, source, via="the page's upload")
    return confirmation(receipt, files), receipt.submission_id


def upload_tab(url: str | None) -> None:
    st.write(
        "Send your exercise files (or a zip of your exercises/ folder), or your quiz answers: the board "
        "grades them itself, exactly as `fastgroup grade` would, and shows the result as verified."
    )
    st.caption(f"Limits: each step file up to {code.MAX_FILE_BYTES // 1000} kB, {code.MAX_TOTAL_BYTES // 1_000_000} MB "
               "of code in all; a zip or answers file up to 1 MB.")
    choices = [SEND_CODE, SEND_QUIZ]
    if open_store(url).accepts_self_reported():
        choices.append(SEND_RESULTS)
    stored = st.session_state.pop("stored", None)  # set just before the rerun below
    if stored:
        st.success(as_text(stored))
    if st.session_state.get("following"):
        follow(url, st.session_state["following"])
    with st.form("upload"):
        token = st.text_input("Your token", type="password")
        what = st.radio(
            "What you send", choices, help="A results file is self-reported: shown apart, never ranked."
        )
        uploads = st.file_uploader("Files", type=["py", "zip", "toml", "json"], accept_multiple_files=True)
        sent = st.form_submit_button("Submit")
    if not sent:
        return
    if not uploads:
        st.error("Choose your files first.")
    else:
        try:
            message, submission_id = send(url, what, token, uploads)
        except KitError as err:
            st.error(as_text(str(err)))
        else:
            load_board.clear()
            load_member.clear()
            load_quiz.clear()
            load_apart.clear()
            st.session_state["stored"] = message
            st.session_state["following"] = submission_id
            st.rerun()  # redraw the board above with the new submission


def main() -> None:
    st.set_page_config(page_title="fastgroup leaderboard", page_icon="📈", layout="wide")
    st.title("Chapter 4 study group")
    url = os.environ.get("FASTGROUP_DB_URL") or None
    try:
        open_store(url)
    except KitError as err:
        st.error(as_text(str(err)))
        st.stop()
    opened = "Member" if st.query_params.get("member") else None  # a member's own address opens their tab
    board, member, upload, agenda = st.tabs(["Leaderboard", "Member", "Upload", "Next meetup"], default=opened)
    with board:
        board_tab(url)
    with member:
        member_tab(url)
    with upload:
        upload_tab(url)
    with agenda:
        agenda_tab(url)
