"""The group's leaderboard: `fastgroup leaderboard` serves this page with Streamlit.

UI only. The numbers come from grader.board.store's queries. Uploads of code (files or a zip) and
quiz answers go through grader.board.code and grader.board.submit.queue_submission, the same path
as `fastgroup submit`; the page then follows the submission from queued to graded. The ranking
holds verified results only; self-reported ones (where the organiser accepts them) are listed
apart. Names and payload text come from members, so they are shown as text: dataframes, code
blocks, or escaped markdown, never HTML.
"""

import json
import os
import re

import altair as alt
import pandas as pd
import streamlit as st

from grader.board import code
from grader.board.payload import quiz_size
from grader.board.store import Store
from grader.board.submit import queue_submission, submit_payload
from grader.core.errors import KitError
from grader.core.results import Results
from grader.core.steps import STEPS

REFRESH_S = 5  # the open page rereads the store this often...
CACHE_S = 3  # ...and all viewers share one read for this long
QUIZ_MAX = quiz_size()
# The same words as `fastgroup list`: done, failing, not started.
STATUS_LABEL = {"completed": "✅ done", "attempted": "🟡 failing", "not started": "⬜ not started"}
MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~$&:])")
STATE_LABEL = {"queued": "⏳ queued", "grading": "⚙️ grading", "graded": "✅ graded", "failed": "❌ failed"}
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
    """The queue's counts and the self-reported list: what the board shows beside the ranking."""
    store = open_store(url)
    return store.waiting(), store.self_reported()


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def load_quiz(url: str | None) -> list[float]:
    return open_store(url).quiz_scores()


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def load_member(url: str | None, name: str):
    return open_store(url).member_detail(name)


def board_frame(rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Rank": range(1, len(rows) + 1),
            "Member": [r.name for r in rows],
            "Points": [r.points for r in rows],
            "Max": [r.max_points for r in rows],
            "Steps": [r.steps_completed for r in rows],
            "Best accuracy": [r.best_accuracy for r in rows],
            "Quiz": [r.quiz for r in rows],
            "Submissions": [r.submissions for r in rows],
            "Last activity": pd.to_datetime([r.last_activity for r in rows], utc=True),
        }
    )


def show_table(rows) -> None:
    total = rows[0].steps_total if rows else len(STEPS)
    st.dataframe(
        board_frame(rows),
        hide_index=True,
        width="stretch",
        column_config={
            "Rank": st.column_config.NumberColumn("#", width="small"),
            "Member": st.column_config.TextColumn("Member"),
            "Points": st.column_config.NumberColumn("Points", help="Best grade submission", format="%.1f"),
            "Max": st.column_config.NumberColumn("Max", help="That submission's maximum"),
            "Steps": st.column_config.ProgressColumn(
                "Steps completed",
                help="Steps whose checks all passed in some grade submission",
                min_value=0,
                max_value=total,
                format=f"%d/{total}",
            ),
            "Best accuracy": st.column_config.NumberColumn(
                "Best accuracy",
                help="Highest accuracy over the training steps (per step: member page)",
                format="percent",
            ),
            "Quiz": st.column_config.NumberColumn("Quiz", help="Best quiz score", format=f"%.0f/{QUIZ_MAX}"),
            "Last activity": st.column_config.DatetimeColumn("Last activity", format="distance"),
        },
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
                .encode(x="Time:T", y="Points:Q", color="Member:N", tooltip=["Member", "Points"]),
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
                x=alt.X("Members finished:Q", axis=alt.Axis(tickMinStep=1)),
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
    waiting, apart = load_apart(url)
    done = sum(1 for r in rows if r.submissions)
    st.caption(
        f"{plural(len(rows), 'member')}, {done} with submissions. Every score here is verified: graded by "
        f"the board from the member's code. Grading: {waiting['grading']}, queued: {waiting['queued']}. "
        f"Refreshes every {REFRESH_S} s."
    )
    show_table(rows)
    show_charts(rows, points, completion, quiz)
    if apart:
        st.subheader("Self-reported (not verified, not ranked)")
        st.dataframe(
            pd.DataFrame(
                {
                    "Member": [r.name for r in apart],
                    "Kind": [r.kind for r in apart],
                    "Best score": [r.score for r in apart],
                    "Max": [r.max_score for r in apart],
                    "Last": pd.to_datetime([r.last for r in apart], utc=True),
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
        name = st.selectbox("Member", [r.name for r in rows], key="member")
        row = next(r for r in rows if r.name == name)
        detail = load_member(url, name)
    except KitError as err:
        st.error(as_text(str(err)))
        return
    a, b, c = st.columns(3)
    a.metric("Points", "" if row.points is None else f"{row.points:g}/{row.max_points:g}")
    b.metric("Steps completed", f"{row.steps_completed}/{row.steps_total}")
    c.metric("Quiz", "" if row.quiz is None else f"{row.quiz:g}/{QUIZ_MAX}")
    points = step_points(detail.latest_grade_payload)
    st.dataframe(
        pd.DataFrame(
            {
                "Step": [s.step_id for s in detail.steps],
                "Title": [s.title for s in detail.steps],
                "Status": [STATUS_LABEL[s.status] for s in detail.steps],
                "Points (latest verified)": [points.get(s.step_id, "") for s in detail.steps],
                "Best accuracy": [s.best_accuracy for s in detail.steps],
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={"Best accuracy": st.column_config.NumberColumn(format="percent")},
    )
    if detail.latest_grade_payload:
        tests = json.loads(detail.latest_grade_payload)["tests"]
        failing = [t for t in tests if t["status"] != "passed"]
        st.subheader("Latest verified grade: checks not passing")
        if failing:
            columns = ["number", "name", "score", "max_score", "output"]
            st.dataframe(pd.DataFrame(failing)[columns], hide_index=True, width="stretch")
        else:
            st.caption("Every check in the latest grade submission passed.")
        with st.expander("Latest grade submission (JSON)"):
            st.code(detail.latest_grade_payload, language="json")
    if detail.history:
        st.subheader("Submissions")
        st.dataframe(
            pd.DataFrame(
                {
                    "#": [h.submission_id for h in detail.history],
                    "Kind": [h.kind for h in detail.history],
                    "State": [STATE_LABEL[h.state] for h in detail.history],
                    "Origin": [h.origin for h in detail.history],
                    "Score": [h.score for h in detail.history],
                    "Max": [h.max_score for h in detail.history],
                    "Why it failed": [h.reason or "" for h in detail.history],
                    "When": pd.to_datetime([h.created_at for h in detail.history], utc=True),
                }
            ),
            hide_index=True,
            width="stretch",
        )


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
        st.success(f"{line}, {row.score:g}/{row.max_score:g}, verified. The Member tab has the per-step report.")
    elif row.state == "failed":
        st.error(as_text(f"{line}: {row.reason}"))
    else:
        st.info(f"{line} (this updates by itself)")


def send(url: str | None, what: str, token: str, uploads: list) -> tuple[str, int | None]:
    """Queue (or, for a results file, store) what was uploaded: (confirmation, submission to follow)."""
    named = [(u.name, u.getvalue()) for u in uploads]
    if what == SEND_RESULTS:
        if len(named) != 1:
            raise KitError("choose one results file")
        return submit_payload(named[0][1], token=token, db_url=url, source=named[0][0]), None
    if what == SEND_QUIZ:
        if len(named) != 1:
            raise KitError("choose one answers file (`fastgroup quiz --template FILE` writes one to fill in)")
        return queue_submission(code.answers(*named[0]), "quiz", token, url)
    return queue_submission(code.from_upload(named), "grade", token, url)


def upload_tab(url: str | None) -> None:
    st.write(
        "Send your exercise files (or a zip of your exercises/ folder), or your quiz answers: the board "
        "grades them itself, exactly as `fastgroup grade` would, and shows the result as verified."
    )
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
    if not token.strip():  # never fall back to a FASTGROUP_TOKEN set on the server
        st.error("Enter your token: the organiser gave it to you with `fastgroup members add`.")
    elif not uploads:
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
    board, member, upload = st.tabs(["Leaderboard", "Member", "Upload"])
    with board:
        board_tab(url)
    with member:
        member_tab(url)
    with upload:
        upload_tab(url)


main()
