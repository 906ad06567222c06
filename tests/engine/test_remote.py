"""The sandboxed observer starts as the judge needs it: fastai's matplotlib quiet and quick."""

import subprocess
import sys
from pathlib import Path

from grader.engine.remote import Observer


def test_matplotlib_in_the_sandbox_uses_a_copy_of_the_users_font_list(bwrap, tmp_path, monkeypatch):
    mine = tmp_path / "mpl"
    mine.mkdir()
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], check=True,
                   env={"MPLCONFIGDIR": str(mine), "PATH": "/usr/bin:/bin"})
    [font_list] = mine.glob("fontlist-v*.json")  # what matplotlib wrote outside the sandbox
    monkeypatch.setenv("MPLCONFIGDIR", str(mine))
    observer = Observer(warm=("matplotlib.pyplot",), device="cpu", scratch=tmp_path)
    observer.start()
    try:
        observer.wait_ready()
        copy = Path(observer.tmp.name) / "matplotlib" / font_list.name
        assert copy.read_bytes() == font_list.read_bytes()
        copied_at = copy.stat().st_mtime_ns
        observer.output.join(0.5)
        said = bytes(observer.output.kept).decode(errors="replace")
        assert "not a writable directory" not in said and "temporary cache" not in said, said
        assert copy.stat().st_mtime_ns == copied_at  # read, not listed and written again
    finally:
        observer.stop()


def test_without_a_font_list_of_the_users_matplotlib_still_starts_quietly(bwrap, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "never-made"))
    observer = Observer(warm=("matplotlib.pyplot",), device="cpu", scratch=tmp_path)
    observer.start()
    try:
        observer.wait_ready()
        made = list((Path(observer.tmp.name) / "matplotlib").glob("fontlist-v*.json"))
        assert made, "matplotlib made no font list in the sandbox's own folder"
        observer.output.join(0.5)
        said = bytes(observer.output.kept).decode(errors="replace")
        assert "not a writable directory" not in said, said
    finally:
        observer.stop()
