"""Memory the machine has free, and what processes hold: why a judge did not start, and what
kept judges cost (Linux /proc; elsewhere unknown, and nothing is said)."""

from pathlib import Path

GIB = 1024**3
SHORT = "the machine is short of memory"
SIGNS = ("MemoryError", "failed to map segment", "Cannot allocate memory", "std::bad_alloc")  # a capped process's words
JUDGE_NEEDS_GB = 1.5  # a judge with torch (0.4 GB) and its sandbox with fastai (about 1 GB) as they start


def available_gb() -> float | None:
    """MemAvailable: what the machine can give without swapping."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024 / GIB
    except (OSError, ValueError, IndexError):
        pass
    return None


def resident_gb(pids) -> float:
    """The resident memory of these processes together (VmRSS), in GB; those gone count nothing."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            continue
    return total / GIB


def short_of_memory(killed: bool) -> str | None:
    """A one-line reason when memory is the likely cause of a judge that did not start: it was
    killed outright (the kernel's out-of-memory killer sends SIGKILL), or too little is free."""
    free = available_gb()
    if not killed and (free is None or free >= JUDGE_NEEDS_GB):
        return None
    said = f"{free:.1f} GB free" if free is not None else "free memory unknown"
    return (f"{SHORT} ({said}; a judge needs about {JUDGE_NEEDS_GB} GB as it starts): close "
            "other programs, end kept judges with `fastgroup stop`, or set FASTGROUP_WARM_S=0 to keep none")
