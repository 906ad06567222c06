"""A hostile exercise file gains no point and changes nothing outside the sandbox.

Each probe is what a learner (or someone grading a stranger's code) could write into an
exercise file: patching the checks or torch from inside, reading the judge's frames, writing
into the kit home, the store or the references, reading secrets, leaving processes behind,
flooding the output, allocating 8 GiB, forking, and connecting to a local service. The step is
mnist_loss, whose wrong answer here (three zeros, not one number) must score nothing whatever else the file does.
"""

import hashlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time

from grader.core import sandbox
from grader.learner.grade import grade
from tests.support.kit import KIT_ROOT

WRONG = """
import torch

def mnist_loss(predictions, targets):
    return torch.zeros(3)
"""


def snapshot(folder) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def graded(fresh_stubs, tmp_path, attack: str):
    """Grade mnist_loss (and, for reference, init_params's stub) with `attack` in mnist_loss.py."""
    source = tmp_path / "exercises"
    source.mkdir()
    for file in fresh_stubs.glob("*.py"):
        (source / file.name).write_text(file.read_text())
    (source / "mnist_loss.py").write_text(WRONG + textwrap.dedent(attack))
    results = grade(["mnist_loss", "init_params"], source=source, device="cpu", show=False)
    return results, {t.number: t for t in results.tests}


def assert_no_points(results):
    assert results.score == 0, [(t.number, t.score, t.output[:200]) for t in results.tests if t.score]


def test_patching_the_checks_registry_and_torch_from_inside_gains_nothing(bwrap, fresh_stubs, tmp_path):
    results, _ = graded(fresh_stubs, tmp_path, """
        import sys, torch
        torch.allclose = lambda *a, **k: True
        torch.equal = lambda *a, **k: True
        for name, mod in list(sys.modules.items()):
            if name.startswith("grader.engine.checks"):
                for checks in getattr(mod, "REGISTRY", {}).values():
                    for c in checks:
                        c.func = lambda ctx: None
                for probe in getattr(mod, "PROBES", {}).values():
                    probe.__code__ = (lambda *a, **k: None).__code__
    """)
    assert_no_points(results)


def test_reading_the_judges_frames_finds_no_reference(bwrap, fresh_stubs, tmp_path):
    results, tests = graded(fresh_stubs, tmp_path, """
        import sys, torch

        def mnist_loss(predictions, targets):
            frame = sys._getframe(1)
            while frame is not None:
                for value in frame.f_locals.values():
                    ref = getattr(value, "ref", None) or getattr(value, "mnist_loss", None)
                    if callable(getattr(ref, "mnist_loss", None)):
                        return ref.mnist_loss(predictions, targets)
                    if isinstance(value, dict) and "want" in value:
                        return value["want"]
                frame = frame.f_back
            return torch.zeros(3)
    """)
    assert_no_points(results)


def test_writes_into_the_kit_home_store_and_references_change_nothing(bwrap, fresh_stubs, tmp_path, kit_home):
    (kit_home / "results").mkdir(exist_ok=True)
    (kit_home / "results" / "grade-latest.json").write_text('{"score": 3}')
    (kit_home / "fastgroup.db").write_bytes(b"the group's store")
    home_before, solutions_before = snapshot(kit_home), snapshot(KIT_ROOT / "solutions")
    results, tests = graded(fresh_stubs, tmp_path, f"""
        import pathlib
        for target in ({str(kit_home)!r}, {str(KIT_ROOT / "solutions")!r}):
            try:
                for f in pathlib.Path(target).rglob("*"):
                    if f.is_file():
                        f.write_text("forged")
                (pathlib.Path(target) / "planted.txt").write_text("forged")
            except OSError as err:
                print("refused:", type(err).__name__)
    """)
    assert_no_points(results)
    after = snapshot(kit_home)
    for name, digest in home_before.items():
        if name != "results/grade-latest.json" and not name.startswith(("results/", "progress", "plots")):
            assert after.get(name) == digest, name
    assert "planted.txt" not in after
    assert snapshot(KIT_ROOT / "solutions") == solutions_before


def test_secrets_in_the_environment_are_not_visible(bwrap, fresh_stubs, tmp_path, monkeypatch):
    monkeypatch.setenv("FASTGROUP_TOKEN", "tok-secret-123")
    monkeypatch.setenv("FASTGROUP_DB_URL", "postgresql://u:pw-secret-456@db/x")
    results, tests = graded(fresh_stubs, tmp_path, """
        import os, torch

        def mnist_loss(predictions, targets):
            print("ENV", dict(os.environ))
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        print(open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace"))
                    except OSError:
                        pass
            return torch.zeros(3)
    """)
    text = " ".join(t.output for t in results.tests)
    assert "ENV {" in text  # the probe ran and its output came back
    assert "tok-secret-123" not in text and "pw-secret-456" not in text
    assert_no_points(results)


def test_processes_left_behind_die_and_cannot_rewrite_the_result(bwrap, fresh_stubs, tmp_path, kit_home):
    marker = f"fastgroup-leftover-{os.getpid()}"
    results, _ = graded(fresh_stubs, tmp_path, f"""
        import os, subprocess
        latest = {str(kit_home / "results" / "grade-latest.json")!r}
        script = "sleep 4; echo '{{\\"score\\": 100}}' > " + latest
        subprocess.Popen(["sh", "-c", script, {marker!r}], start_new_session=True)
        if os.fork() == 0:
            os.setsid()
            os.execvp("sleep", ["sleep", "30", {marker!r}])
    """)
    assert_no_points(results)
    latest = (kit_home / "results" / "grade-latest.json").read_text()
    time.sleep(6)
    assert (kit_home / "results" / "grade-latest.json").read_text() == latest
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert marker not in ps


def test_descriptor_level_flood_is_capped(bwrap, fresh_stubs, tmp_path):
    results, _ = graded(fresh_stubs, tmp_path, """
        import os, sys
        os.write(1, b"x" * 50_000_000)
        sys.__stderr__.write("y" * 5_000_000)
    """)
    assert_no_points(results)
    assert sum(len(t.output) for t in results.tests) < 100_000


def test_an_8_gib_allocation_fails_inside_and_grading_goes_on(bwrap, fresh_stubs, tmp_path):
    results, tests = graded(fresh_stubs, tmp_path, """
        import torch

        def mnist_loss(predictions, targets):
            big = torch.ones(8 * 1024**3, dtype=torch.uint8)
            return big.float().mean()
    """)
    assert_no_points(results)
    assert any("memory" in t.output.lower() or "alloc" in t.output.lower() for t in results.tests), [
        t.output[:200] for t in results.tests]


def test_a_fork_storm_dies_with_the_grade(bwrap, fresh_stubs, tmp_path):
    marker = f"fastgroup-storm-{os.getpid()}"
    results, _ = graded(fresh_stubs, tmp_path, f"""
        import os
        for _ in range(100):
            if os.fork() == 0:
                os.execvp("sleep", ["sleep", "60", {marker!r}])
    """)
    assert_no_points(results)
    deadline = time.monotonic() + 30  # a backstop, not a speed: a survivor would sleep its 60 s
    while marker in (ps := subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout):
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert marker not in ps


def test_no_connection_reaches_a_service_on_127_0_0_1(bwrap, fresh_stubs, tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    port = server.getsockname()[1]
    reached = []

    def accept():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not reached:
            try:
                reached.append(server.accept())
            except (TimeoutError, OSError):
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    results, _ = graded(fresh_stubs, tmp_path, f"""
        import socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"leak")
        except OSError as err:
            print("no network:", type(err).__name__)
    """)
    time.sleep(1)
    reached.append(None) if not reached else None
    thread.join(2)
    server.close()
    assert reached == [None], "the sandbox connected to 127.0.0.1"
    assert_no_points(results)


def test_honest_code_still_gets_full_marks_through_the_sandbox(bwrap, tmp_path):
    results = grade(["mnist_loss", "batch_accuracy"], source=KIT_ROOT / "solutions", device="cpu", show=False)
    assert results.score == results.max_score


def test_without_bubblewrap_grading_says_so_in_one_line_and_still_judges_outside(fresh_stubs, tmp_path):
    """The fallback (no bubblewrap: macOS, Windows, a locked-down container): learner code still
    runs in its own process, judged outside, and the learner is told once that it is not isolated."""
    source = tmp_path / "exercises"
    source.mkdir()
    (source / "mnist_loss.py").write_text(WRONG + textwrap.dedent("""
        import sys
        for name, mod in list(sys.modules.items()):
            for checks in getattr(mod, "REGISTRY", {}).values():
                for c in checks:
                    c.func = lambda ctx: None
    """))
    (source / "batch_accuracy.py").write_text((KIT_ROOT / "solutions" / "batch_accuracy.py").read_text())
    env = {**os.environ, "FASTGROUP_SANDBOX": "off"}
    run = subprocess.run(
        [sys.executable, "-m", "grader.cli", "grade", "mnist_loss", "batch_accuracy", "--source", str(source),
         "--device", "cpu", "--json", str(tmp_path / "r.json")],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert run.stdout.count(sandbox.NOT_ISOLATED) == 1, run.stdout[-2000:]
    scores = {t["number"].split(".")[0]: 0 for t in json.loads((tmp_path / "r.json").read_text())["tests"]}
    for t in json.loads((tmp_path / "r.json").read_text())["tests"]:
        scores[t["number"].split(".")[0]] += t["score"]
    assert scores == {"mnist_loss": 0, "batch_accuracy": 6}
