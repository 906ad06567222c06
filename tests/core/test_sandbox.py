"""grader/core/sandbox.py: what learner code can reach from inside, probe by probe.

With bubblewrap (CI installs it and demands it) every probe is contained; on a laptop without
it these tests skip, and the fallback's own promise (limits, a scrubbed environment, one line
saying grading is not isolated) is tested apart.
"""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.core import sandbox
from tests.support.kit import KIT_ROOT


def inside(tmp_path, code: str, **kwargs) -> sandbox.Finished:
    return sandbox.run([sys.executable, "-u", "-c", code], tmp_path, timeout=60, **kwargs)


def test_environment_is_built_from_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTGROUP_TOKEN", "secret-token-123")
    monkeypatch.setenv("FASTGROUP_DB_URL", "postgresql://u:password@db/x")
    done = inside(tmp_path, "import os; print(sorted(os.environ))")
    assert b"FASTGROUP" not in done.output and b"password" not in done.output


def test_kit_home_solutions_and_home_are_invisible(bwrap, tmp_path, kit_home):
    (kit_home / "fastgroup.db").write_text("the store")
    code = (
        "import os\n"
        f"print('home', os.listdir({str(kit_home)!r}) if os.path.isdir({str(kit_home)!r}) else [])\n"
        f"print('solutions', os.path.exists({str(KIT_ROOT / 'solutions' / 'mnist_loss.py')!r}))\n"
        "print('dot-home', os.listdir(os.path.expanduser('~')) if os.path.isdir(os.path.expanduser('~')) else [])\n"
    )
    out = inside(tmp_path, code, env={"HOME": str(Path.home())}).output.decode()
    assert "home []" in out and "solutions False" in out and ".bashrc" not in out and "fastgroup.db" not in out, out


def test_nothing_outside_the_work_folder_can_be_written(bwrap, tmp_path):
    target = KIT_ROOT / "README.md"
    before = target.read_bytes()
    done = inside(tmp_path, f"open({str(target)!r}, 'a').write('x'); print('wrote')")
    assert b"wrote" not in done.output and target.read_bytes() == before
    assert b"ok" in inside(tmp_path, "open('mine.txt', 'w').write('x'); print('ok')").output


def test_no_network_not_even_loopback_services(bwrap, tmp_path):
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        code = f"import socket\ns = socket.socket()\ns.settimeout(2)\nprint(s.connect_ex(('127.0.0.1', {port})))"
        out = inside(tmp_path, code).output.decode().strip()
        assert out != "0"  # the host's listening port cannot be reached
    finally:
        server.close()


def test_processes_it_starts_die_with_it_even_detached(bwrap, tmp_path):
    code = (
        "import os, subprocess\n"
        "for _ in range(5):\n"
        "    subprocess.Popen(['sleep', '31.4159'], start_new_session=True)\n"
        "print('started')\n"
    )
    assert b"started" in inside(tmp_path, code).output
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", "sleep 31.4159"], capture_output=True, text=True).stdout
    assert left == ""


def test_memory_is_capped_and_the_cap_cannot_be_raised(tmp_path):
    code = (
        "import resource\n"
        "try:\n    resource.setrlimit(resource.RLIMIT_AS, (-1, -1)); print('raised')\n"
        "except (ValueError, OSError): print('refused')\n"
        "try:\n    b = bytearray(8 * 1024**3); print('allocated')\n"
        "except MemoryError: print('no memory')\n"
    )
    out = inside(tmp_path, code).output.decode()
    assert "refused" in out and "no memory" in out


def test_output_flood_at_the_descriptor_level_is_capped(tmp_path):
    done = inside(tmp_path, "import os\nfor _ in range(200):\n    os.write(1, b'x' * 1_000_000)\n")
    assert len(done.output) <= sandbox.default_limits().output_bytes
    assert done.dropped >= 190_000_000


def test_a_runaway_is_stopped_at_the_timeout(tmp_path):
    """Stopped at its timeout, not waited for: the slack is the time this machine takes, now, to
    run a sandbox that does nothing (a loaded machine starts sandboxes slowly)."""
    idle = sandbox.run([sys.executable, "-c", "pass"], tmp_path, timeout=60)
    started = time.monotonic()
    done = sandbox.run([sys.executable, "-c", "while True: pass"], tmp_path, timeout=1.5)
    took = time.monotonic() - started
    assert done.timed_out and not idle.timed_out
    assert took < 1.5 + 3 * idle.seconds + 5, f"{took:.1f} s for a 1.5 s timeout ({idle.seconds:.1f} s for `pass`)"


def test_the_fallback_says_it_is_not_isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("FASTGROUP_SANDBOX", "off")
    sandbox.isolation.cache_clear()
    try:
        assert sandbox.isolation() == "process group"
        assert "not isolated" in sandbox.NOT_ISOLATED and "\n" not in sandbox.NOT_ISOLATED
        assert b"FASTGROUP" not in inside(tmp_path, "import os; print(sorted(os.environ))").output
    finally:
        sandbox.isolation.cache_clear()


def test_where_root_has_a_pids_cgroup_each_sandbox_gets_its_own_cap(bwrap, tmp_path):
    probe = sandbox.pids_group(1)
    sandbox.remove_group(probe)
    if probe is None:
        pytest.skip("no writable cgroup v1 pids controller here (root only): RLIMIT_NPROC binds alone")
    limits = sandbox.default_limits()
    proc = sandbox.start([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, limits=limits)
    try:
        group = proc.pids_group
        assert (group / "pids.max").read_text().strip() == str(limits.processes)
        deadline = time.monotonic() + 10
        while not (group / "cgroup.procs").read_text().split() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (group / "cgroup.procs").read_text().split()  # the sandbox's processes are in it
    finally:
        sandbox.stop(proc)
    deadline = time.monotonic() + 30
    while group.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not group.exists()
