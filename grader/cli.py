"""The `fastgroup` command: a thin typer layer over library functions.

Each command imports its module lazily so that `fastgroup list` stays quick and a problem in
one part of the kit cannot stop the others. Exit codes: 0 all passed, 1 some failed, 2 usage
or environment error (one line on stderr).
"""

import functools
import sys
from pathlib import Path
from typing import Annotated

import typer

from grader.core.errors import KitError
from grader.engine import DEFAULT_DEVICE, DEFAULT_SEED

app = typer.Typer(
    help="fastgroup: work through Chapter 4 of the fastai book as a group, graded.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
members_app = typer.Typer(help="Organiser: manage the group's members and their tokens.")
nbgrader_app = typer.Typer(help="Organiser: bring central nbgrader grades into the store.")
app.add_typer(members_app, name="members")
app.add_typer(nbgrader_app, name="nbgrader")

BoardOption = Annotated[
    str | None,
    typer.Option("--board", help="The board's address, from the organiser (else FASTGROUP_BOARD_URL)."),
]
DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (else FASTGROUP_DB_URL, else SQLite in the kit home)."),
]


def one_line_errors(func):
    """Turn a KitError into 'error: ...' on stderr and exit code 2, and Ctrl-C into one line and 130."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except KitError as err:
            typer.secho(f"error: {err}", err=True, fg="red")
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.secho("stopped (Ctrl-C)", err=True)
            raise typer.Exit(130) from None

    return wrapper


@app.command("list")
@one_line_errors
def list_cmd():
    """The steps in chapter order, with your status on each."""
    from grader.learner.progress import print_step_list

    print_step_list()


@app.command()
@one_line_errors
def grade(
    steps: Annotated[list[str] | None, typer.Argument(help="Step ids (default: all).")] = None,
    source: Annotated[
        Path | None,
        typer.Option(help="Folder laid out like exercises/ ('solutions' works), or your own notebook (.ipynb) "
                          "or script (.py): its chapter definitions are found, never run."),
    ] = None,
    data: Annotated[
        str | None, typer.Option(help="embedded | sample | PATH (else FASTGROUP_DATA).")
    ] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = DEFAULT_DEVICE,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
    quick: Annotated[bool, typer.Option(help="Unit checks only, no training.")] = False,
    seed: Annotated[int, typer.Option(help="Seed for every random choice.")] = DEFAULT_SEED,
    fresh: Annotated[bool, typer.Option(help="Grade every step again, even those whose code and settings "
                                             "are unchanged since their last grade (reused otherwise).")] = False,
    verbose: Annotated[bool, typer.Option(help="Show every failing check of a step, not only the first.")] = False,
):
    """Run the checks on your exercises, train what trains, award points."""
    from grader.learner.grade import grade as run_grade

    results = run_grade(
        steps=steps or None,
        source=source,
        data=data,
        device=device,
        json_path=json_path,
        quick=quick,
        seed=seed,
        fresh=fresh,
        verbose=verbose,
    )
    raise typer.Exit(0 if results.score >= results.max_score - 1e-9 else 1)


@app.command()
@one_line_errors
def stop():
    """End the grading processes that wait for your next grade (they hold memory; they end by
    themselves after FASTGROUP_WARM_S seconds, 600 by default)."""
    from grader.engine import stop_judges as stop_all

    ended, busy = stop_all()
    typer.echo(f"{ended} waiting grader process{'es' if ended != 1 else ''} ended"
               + (f"; {busy} in use by a grade now, left alone" if busy else ""))


@app.command()
@one_line_errors
def hint(
    step: Annotated[str, typer.Argument(help="Step id.")],
    show_all: Annotated[bool, typer.Option("--all", help="Show again every hint seen so far.")] = False,
):
    """The next hint for a step: from a nudge to nearly the answer."""
    from grader.learner.hints import next_hint, shown_hints

    typer.echo("\n".join(shown_hints(step)) if show_all else next_hint(step))


@app.command()
@one_line_errors
def watch(
    source: Annotated[Path | None, typer.Option(help="Exercises folder, or your notebook (.ipynb) or script.")] = None,
    poll: Annotated[bool, typer.Option(help="Poll for changes (where file events don't arrive).")] = False,
):
    """Regrade the step you are editing every time you save it."""
    from grader.learner.watch import watch as run_watch

    run_watch(source=source, poll=poll)


@app.command()
@one_line_errors
def quiz(
    answers: Annotated[
        Path | None, typer.Option(help="Answer from this TOML/JSON file (its format: below, and README).")
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for shuffling the choices.")] = None,
    template: Annotated[
        Path | None, typer.Option(help="Write an answers file to fill in: every question, no answers.")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Go on with the quiz you stopped: only the questions left.")] = False,
    missed: Annotated[bool, typer.Option(help="Ask only what your last result missed; keep the rest.")] = False,
    reveal: Annotated[bool, typer.Option(help="With --answers: show the answers of the questions your file "
                                              "leaves out too (hidden otherwise).")] = False,
):
    """Take the chapter quiz (every question of quiz/ch4.toml).

    An answers file is TOML with an \\[answers] table: q01 = "a" (single choice), q02 = ["a", "c"]
    (multiple), q23 = 0.3 (numeric), q14 = ["init", ...] (order), code as a triple-quoted string,
    code and then a choice as q26 = { code = '''...''', choice = "c" }; or JSON of the same shape.
    `--template FILE` writes one with every question, its choices and what to write.
    A stopped quiz (Ctrl-D or Ctrl-C, --missed runs too) keeps its answers: `--resume` asks only
    the rest; `--missed` asks again only what your last result missed. Questions an answers file
    leaves out are listed as not answered, their answers hidden unless you pass --reveal.
    """
    from quiz.answers import write_template
    from quiz.session import run_quiz

    if template is not None:
        typer.echo(write_template(template))
        return

    if resume and missed:
        raise KitError("--resume goes on with a stopped quiz, --missed retakes a finished one's misses: choose one")
    if (resume or missed) and answers is not None:
        raise KitError("--resume and --missed ask in the terminal: leave out --answers")
    if reveal and answers is None:
        raise KitError("--reveal shows the answers an answers file leaves out: pass --answers FILE too")
    results = run_quiz(answers=answers, json_path=json_path, seed=seed, resume=resume, missed=missed, reveal=reveal)
    raise typer.Exit(1 if results is None or results.score < results.max_score - 1e-9 else 0)


@members_app.command("add")
@one_line_errors
def members_add(name: str, db: DbOption = None):
    """Add a member and print their token (shown only this once); the first one creates the store."""
    from grader.board.db import describe_url
    from grader.board.store import Store

    with Store.open(db, create=True) as store:
        token = store.add_member(name)
        if store.created:
            typer.echo(f"Created a new store: {describe_url(store.url)}.")
    typer.echo(f"Member '{name}' added. Their token (shown once, keep it secret):\n{token}")


@members_app.command("list")
@one_line_errors
def members_list(db: DbOption = None):
    """List the members."""
    from grader.board.store import Store

    for name in Store.open(db).member_names():
        typer.echo(name)


@members_app.command("remove")
@one_line_errors
def members_remove(name: str, db: DbOption = None):
    """Remove a member (their submissions are kept)."""
    from grader.board.store import Store

    Store.open(db).remove_member(name)
    typer.echo(f"Member '{name}' removed.")


@app.command()
@one_line_errors
def submit(
    quiz_answers: Annotated[bool, typer.Option("--quiz", help="Send quiz answers (--answers FILE), not code.")] = False,
    answers: Annotated[
        Path, typer.Option(help="With --quiz: the answers file `fastgroup quiz --answers` reads.")
    ] = Path("answers.toml"),
    source: Annotated[
        Path | None, typer.Option(help="Exercises folder (default: ./exercises), or your notebook or script; "
                                       "the board shows its name (never its path).")
    ] = None,
    results: Annotated[
        Path | None, typer.Option(help="Self-reported: send a results file instead (only where the organiser allows).")
    ] = None,
    token: Annotated[str | None, typer.Option(help="Your token (else FASTGROUP_TOKEN).")] = None,
    board_url: BoardOption = None,
    wait: Annotated[bool, typer.Option(help="With --board: wait until it is graded and show the points.")] = True,
    db: Annotated[
        str | None, typer.Option("--db", help="Organiser only: write the database itself (else FASTGROUP_DB_URL).")
    ] = None,
):
    """Send your exercise files (or, with --quiz, your answers) to the board, and wait for the grade."""
    from grader.board.submit import submit_code, submit_quiz, submit_results

    if results is not None:
        typer.echo(submit_results(results_path=results, token=token, db_url=db, announce=typer.echo))
    elif quiz_answers:
        typer.echo(submit_quiz(answers, token=token, db_url=db, board=board_url, wait=wait, announce=typer.echo))
    else:
        typer.echo(submit_code(source, token=token, db_url=db, announce=typer.echo, board=board_url, wait=wait))


@app.command()
@one_line_errors
def status(
    token: Annotated[str | None, typer.Option(help="Your token (else FASTGROUP_TOKEN).")] = None,
    board_url: BoardOption = None,
):
    """Your submissions on the board: queued, being graded, graded (points) or failed (why)."""
    from grader.board.submit import status as board_status

    typer.echo("\n".join(board_status(token=token, board=board_url)))


@app.command()
@one_line_errors
def leaderboard(
    db: DbOption = None,
    port: Annotated[int, typer.Option(help="The page's port.")] = 8501,
    api_port: Annotated[
        int | None, typer.Option(help="The API's port, where members submit (default: the page's port + 1).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Grading workers on this machine (default: one per two cores; 0: none).")
    ] = None,
    device: Annotated[str, typer.Option(help="The workers' device: auto | cpu | cuda.")] = DEFAULT_DEVICE,
):
    """Start the group's board: the page, the API members submit to, and grading workers for its queue."""
    from grader.board.launch import launch

    sys.exit(launch(db_url=db, port=port, api_port=api_port, workers=workers, device=device))


@app.command()
@one_line_errors
def worker(
    db: DbOption = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda (a GPU machine: cuda).")] = DEFAULT_DEVICE,
    data: Annotated[str | None, typer.Option(help="embedded | sample | PATH (else FASTGROUP_DATA).")] = None,
):
    """Organiser: grade the board's queued submissions on this machine until stopped."""
    from grader.board.worker import run
    from grader.core import sandbox
    from grader.engine import make_settings as settings

    wanted = settings(data, device)  # a wrong device is refused before anything starts
    if sandbox.isolation() != "bubblewrap":
        typer.echo(f"Note: {sandbox.NOT_ISOLATED}: install bubblewrap on grading machines", err=True)
    run(db_url=db, device=wanted.device, data=wanted.data)


@app.command()
@one_line_errors
def board(
    accept_self_reported: Annotated[
        bool | None,
        typer.Option(
            "--accept-self-reported/--refuse-self-reported",
            help="Whether `submit --results` scores are stored (shown apart, never ranked). Default: refused.",
        ),
    ] = None,
    cooldown: Annotated[
        int | None, typer.Option(help="Seconds a member waits between two submissions (0: no wait).")
    ] = None,
    agenda: Annotated[bool, typer.Option(help="Print the next meetup's agenda (Markdown) from the grades.")] = False,
    db: DbOption = None,
):
    """Organiser: the board's settings (stored in its database); with no option, show them."""
    from grader.board.store import Store

    with Store.open(db) as store:
        if agenda:
            from grader.board.agenda import agenda_markdown

            typer.echo(agenda_markdown(store))
            return
        if accept_self_reported is not None:
            store.set_accept_self_reported(accept_self_reported)
        if cooldown is not None:
            store.set_cooldown(cooldown)
        accepted = store.accepts_self_reported()
        wait = store.cooldown()
    typer.echo(f"self-reported results: {'accepted (shown apart, never ranked)' if accepted else 'refused'}")
    typer.echo(f"cooldown between a member's submissions: {f'{wait} s' if wait else 'none'}")


@app.command()
@one_line_errors
def generate(
    check: Annotated[
        bool, typer.Option(help="Only compare: exit 1 when a generated file is missing or stale.")
    ] = False,
    force: Annotated[
        bool, typer.Option(help="Also replace exercises you edited (each is backed up first).")
    ] = False,
):
    """Maintainers: regenerate exercises/ (and the notebook) from solutions/; never your edits."""
    from grader.authoring.exercises import generate as run_generate
    from grader.authoring.exercises import out_of_sync

    if check:
        stale = out_of_sync()
        for path in stale:
            typer.echo(f"differs: {path}")
        if stale:
            typer.echo("Run `fastgroup generate` and commit the result.", err=True)
            raise typer.Exit(1)
        return
    done = run_generate(force=force)
    for path in done.written:
        typer.echo(f"wrote: {path}")
    for path in done.backups:
        typer.echo(f"backed up your edited file to: {path}")
    for path in done.kept:
        typer.echo(f"kept your edits: {path} (`fastgroup reset {path.stem}` for a fresh stub)")


@app.command()
@one_line_errors
def reset(
    step: Annotated[str, typer.Argument(help="Step id.")],
    source: Annotated[Path | None, typer.Option(help="Exercises folder.")] = None,
):
    """A fresh stub for one step; your current file is backed up first."""
    from grader.authoring.exercises import reset_step
    from grader.core.steps import get_step
    from grader.engine import resolve_source
    from grader.learner.progress import forget

    folder = resolve_source(source)
    if not folder.is_dir():
        raise KitError(f"{folder} is not an exercises folder: `fastgroup reset` gives a fresh stub in one")
    path, saved = reset_step(get_step(step).id, folder)
    forget(path.stem)
    if saved:
        typer.echo(f"backed up your file to: {saved}")
    typer.echo(f"fresh stub: {path}")


@nbgrader_app.command("import")
@one_line_errors
def nbgrader_import(
    gradebook: Annotated[Path, typer.Option(help="nbgrader's gradebook.db")] = Path("gradebook.db"),
    assignment: Annotated[str, typer.Option(help="Assignment name.")] = "ch4",
    db: DbOption = None,
):
    """Grade each autograded student's submitted notebook in the sandbox and record it in the store
    (nbgrader's in-kernel figures are shown beside it where they differ, never stored as verified)."""
    from grader.board.imports import check_members, import_results
    from grader.notebook.gradebook import differences, read_gradebook, verified_by_student

    students = read_gradebook(gradebook, assignment)
    if not students:
        typer.echo(f"Nothing to import: no autograded submission of '{assignment}' in {gradebook}.")
        return
    check_members(sorted(students), db_url=db)  # before minutes of grading, not after
    results = verified_by_student(gradebook, assignment, on_student=lambda student, r: typer.echo(
        f"graded {student}'s notebook: {r.score:g}/{r.max_score:g}"))
    for line in differences(results):
        typer.echo(line)
    typer.echo(import_results(results, f"nbgrader result(s) of '{assignment}'", db_url=db))


if __name__ == "__main__":
    app()
