"""The sandboxed observer starts as the judge needs it: fastai's matplotlib quiet and quick."""

import subprocess
import sys

from grader.engine.judges.remote import Observer


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
        listed_at = font_list.stat().st_mtime_ns
        observer.output.join(0.5)
        said = bytes(observer.output.kept).decode(errors="replace")
        assert "not a writable directory" not in said and "temporary cache" not in said, said
        assert "generated new fontManager" not in said, said  # read, not listed again
        assert font_list.stat().st_mtime_ns == listed_at  # the user's own list is only read
    finally:
        observer.stop()


def test_without_a_font_list_of_the_users_matplotlib_still_starts_quietly(bwrap, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "never-made"))
    observer = Observer(warm=("matplotlib.pyplot",), device="cpu", scratch=tmp_path)
    observer.start()
    try:
        observer.wait_ready()
        observer.output.join(0.5)
        said = bytes(observer.output.kept).decode(errors="replace")
        assert "not a writable directory" not in said and "temporary cache" not in said, said
        assert not (tmp_path / "never-made").exists()  # the sandbox made its list in its own folder
    finally:
        observer.stop()
