"""``trustops demo --serve`` without a terminal (as in CI): the server starts over the demo's
store, answers for the printed viewer token, and stops, so ``make demo`` always ends."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from trustops.cli.demo_serve import VIEWER, interactive, listen
from trustops.core.access import Permission, Role
from trustops.errors import UsageError
from trustops.governance import Registry
from trustops.governance.identity import Identity


def _hold(port: int) -> socket.socket | None:
    """A listening socket on ``port`` if it is free (so the demo must take the next one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None
    sock.listen(1)
    return sock


def test_the_demo_serves_checks_and_stops_without_a_terminal(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTOPS_")}
    env.update(CI="true", COLUMNS="200")
    script = Path(sys.executable).with_name("trustops")
    held = _hold(8000)  # port 8000 busy: the demo says which port it took instead
    try:
        done = subprocess.run(
            [str(script), "demo", "--serve", "-o", str(out), "--rows", "3000",
             "--bootstrap", "0"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, cwd=tmp_path,
            timeout=900,
        )  # fmt: skip
    finally:
        if held is not None:
            held.close()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    url = re.search(r"dashboard: (http://127\.0\.0\.1:(\d+))/", done.stdout)
    assert url is not None, done.stdout[-2000:]
    assert held is None or int(url.group(2)) != 8000
    assert f"log in: open {url.group(1)}/login" in done.stdout
    monitoring = f"{url.group(1)}/systems/credit-scoring/models/credit-scorer/1/monitoring"
    assert f"fairness drift over time: {monitoring}" in done.stdout
    assert f"erasure requests): {url.group(1)}/systems/credit-scoring/privacy" in done.stdout
    assert (
        "server check ok: /readyz 200, overview page 200, monitoring page 200, privacy page 200 "
        f"for {VIEWER}" in done.stdout
    )
    tokens = re.findall(r"\btro_[A-Za-z0-9_-]{43}\b", done.stdout)
    assert len(tokens) == 1 and tokens[0] not in done.stderr
    # the printed token is a viewer's of the demo system: it reads, it decides nothing
    with Registry.open(out) as reg:
        who = Identity(reg).authenticate(tokens[0])
        log = reg.audit.entries()
    assert who.user == VIEWER and who.role("credit-scoring") is Role.VIEWER
    assert who.can(Permission.SYSTEM_READ, "credit-scoring")
    assert not who.can(Permission.APPROVAL_DECIDE, "credit-scoring")
    assert {"user.created", "membership.granted", "token.issued"} <= {e.action for e in log}
    assert not any(tokens[0] in str(e.payload) for e in log)
    # stopped: the port is free again
    again = _hold(int(url.group(2)))
    assert again is not None
    again.close()


def test_the_next_free_port_and_who_can_stop_the_server() -> None:
    first = listen(first=18470)
    try:
        second = listen(first=first.getsockname()[1])
        assert second.getsockname()[1] > first.getsockname()[1]
        second.close()
    finally:
        first.close()
    assert not interactive({"CI": "true"})
    if not sys.stdin or not sys.stdin.isatty():
        assert not interactive({})  # pytest's stdin is no terminal


def test_no_free_port_is_a_usage_error() -> None:
    taken = listen(first=18490)
    try:
        with pytest.raises(UsageError, match="no free port"):
            listen(first=taken.getsockname()[1], tries=1)
    finally:
        taken.close()
