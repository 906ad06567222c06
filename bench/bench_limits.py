"""How far the reference stays from each check's limit, in the CPU seconds the limit counts.

    python bench/bench_limits.py [--seed 0]

Grades solutions/ in full (`fastgroup grade --fresh --device cpu`, a private kit home, judges
not kept) and prints, for every check, the CPU seconds the reference's code used in the sandbox
(extra_data.cpu_seconds), its limit (engine/limits.py: the check's timeout in CPU seconds), and
the share of the limit used, largest first. A limit must leave correct code a wide margin on any
machine: more threads spend more CPU seconds on the same work. For bench/RESULTS.md.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.path.insert(0, str(KIT))
    from grader.engine import catalogue

    limits = {c.number: c.timeout for checks in catalogue.load().values() for c in checks}
    with tempfile.TemporaryDirectory(prefix="fastgroup-bench-limits-") as home:
        out = Path(home) / "results.json"
        env = {**os.environ, "FASTGROUP_HOME": home, "FASTGROUP_WARM_S": "0"}
        subprocess.run([sys.executable, "-m", "grader.cli", "grade", "--source", str(KIT / "solutions"), "--fresh",
                        "--device", "cpu", "--seed", str(args.seed), "--json", str(out)], cwd=KIT, env=env,
                       capture_output=True, timeout=3600)
        doc = json.loads(out.read_text())
    used = doc["extra_data"].get("cpu_seconds", {})
    print(f"{doc['score']:g}/{doc['max_score']:g} points; torch threads: {os.cpu_count()} cores here")
    for number, cpu in sorted(used.items(), key=lambda item: -item[1] / limits[item[0]]):
        print(f"{number:28} {cpu:7.2f} CPU s of {limits[number]:5.0f} ({cpu / limits[number]:6.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
