"""The memory kept judges hold after an afternoon's commands in one kit home (goal: 1.5 GB in all).

    python bench/bench_kept_memory.py [--kit PATH] [--budget GB]

In a private kit home, with judges kept (the default): a full `fastgroup grade` of the
solutions, a one-step regrade, a notebook grade (`--source` the kit's course notebook), and
`pytest exercises/ -k mnist_loss` on a copy of the solutions. After each, prints every kept judge
of this user with the memory it holds with its sandbox (resident, GB) and the total; at the end
`fastgroup stop` ends them. `--kit` runs another checkout's code (a worktree of an earlier commit)
for a before/after. `--budget` sets FASTGROUP_WARM_GB (unset: the kit's default).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]


def kept(kit: Path) -> dict[int, float]:
    """pid -> GB (resident, judge and its sandbox) of every kept judge of this user."""
    from grader.core import cpu, memory

    found = {}
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"grader.engine.judges.warm" in entry.read_bytes():
                pid = int(entry.parent.name)
                found[pid] = memory.resident_gb([pid, *cpu.descendants(pid)])
        except (OSError, ValueError):
            continue
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kit", type=Path, default=KIT)
    parser.add_argument("--budget", type=float, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(KIT))
    home = Path(tempfile.mkdtemp(prefix="fastgroup-bench-kept-"))
    env = {**os.environ, "FASTGROUP_HOME": str(home), "PYTHONPATH": str(args.kit), "FASTGROUP_WARM_S": "600"}
    if args.budget is not None:
        env["FASTGROUP_WARM_GB"] = str(args.budget)
    source = home / "src"
    shutil.copytree(args.kit / "solutions", source, ignore=shutil.ignore_patterns("__pycache__"))
    notebook = args.kit / "course" / "source" / "ch4" / "ch4.ipynb"
    cli = [sys.executable, "-m", "grader.cli"]
    commands = {
        "full grade": [*cli, "grade", "--source", str(source), "--device", "cpu"],
        "one-step regrade": [*cli, "grade", "mnist_loss", "--source", str(source), "--device", "cpu", "--fresh"],
        "notebook grade (quick)": [*cli, "grade", "--quick", "--source", str(notebook), "--device", "cpu"],
        "pytest exercises/ -k mnist_loss": [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                            str(source), "-k", "mnist_loss"],
    }
    try:
        for name, command in commands.items():
            began = time.monotonic()
            subprocess.run(command, cwd=args.kit, env=env, capture_output=True, timeout=1800)
            time.sleep(15)  # each kept judge's fresh sandbox imports, as while the learner types
            judges = kept(args.kit)
            print(f"after {name:32} ({time.monotonic() - began:5.1f} s): {len(judges)} kept, "
                  f"{sum(judges.values()):.2f} GB ({', '.join(f'{gb:.2f}' for gb in judges.values())})", flush=True)
    finally:
        subprocess.run([*cli, "stop"], cwd=args.kit, env=env, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
