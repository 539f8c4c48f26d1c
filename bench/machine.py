"""What every benchmark prints about where it ran: machine, versions, git state, load.

The benchmark scripts run as ``python bench/NAME.py``, so this module is
imported by name from the same folder.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import subprocess
from collections.abc import Iterable
from pathlib import Path

__all__ = ["cpu_model", "git_state", "load", "machine_line", "source_state", "versions"]

ROOT = Path(__file__).resolve().parent.parent


def versions(packages: Iterable[str], **extra: str) -> dict[str, str]:
    """``{"python": ..., **extra, package: version or "not installed"}``."""
    out = {"python": platform.python_version(), **extra}
    for pkg in packages:
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def git_state() -> str:
    """Commit of the benchmarked source, and whether src/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" + uncommitted changes under src/" if dirty else " (src/ clean)")


def source_state() -> str:
    """Which trustops is measured: this checkout's src/ (with its git state) or another copy."""
    import trustops

    if (ROOT / "src") in Path(trustops.__file__).resolve().parents:
        return f"trustops at git {git_state()}"
    return (
        "trustops imported from outside this checkout (PYTHONPATH, e.g. `git archive` of a "
        f"commit); this checkout: git {git_state()}"
    )


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_line() -> str:
    """``machine: OS release, CPU, cores, RAM`` (no host name, no path)."""
    ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1024**3
    return (
        f"machine: {platform.system()} {platform.release()}, {cpu_model()}, "
        f"os.cpu_count()={os.cpu_count()}, RAM {ram:.1f} GiB"
    )


def load() -> str:
    """The 1/5/15-minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
