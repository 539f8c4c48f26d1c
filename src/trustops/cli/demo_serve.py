"""The demo's last part (``trustops demo --serve``): the server over the demo's workspace.

After the tour, a viewer (``demo-viewer``, a member of the demo's AI system
with the viewer role) gets an API token through
:class:`~trustops.governance.identity.Identity`, and the server that
``trustops serve`` runs (:func:`trustops.server.app.create_app` under uvicorn)
starts on 127.0.0.1, port 8000 or the next free one. The URL and the token
are printed with how to log in, and the pages to open: each monitored
version's monitoring page and the system's privacy page.

At a terminal (stdin is a TTY and ``CI`` is unset) the server runs until
Ctrl-C. Anywhere else (CI, ``make demo`` without a terminal) it starts, the
demo checks that ``/readyz`` answers and that the overview, monitoring and
privacy pages answer 200 for the viewer's token, prints that, and stops: the
demo always ends.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from trustops.errors import UsageError

__all__ = ["VIEWER", "interactive", "listen", "serve_demo"]

VIEWER = "demo-viewer"
"""The demo's viewer: reads the demo system's pages, decides nothing."""

HOST = "127.0.0.1"
TOKEN_TTL = timedelta(days=1)  # the printed token is a demo's: it expires


def interactive(env: dict[str, str] | None = None) -> bool:
    """Whether someone can stop the server with Ctrl-C (a terminal on stdin, not CI)."""
    env = dict(os.environ) if env is None else env
    return bool(sys.stdin is not None and sys.stdin.isatty() and not env.get("CI"))


def listen(first: int = 8000, tries: int = 20) -> socket.socket:
    """A listening socket on 127.0.0.1: port ``first`` or the next free one.

    The socket is handed to uvicorn as it is, so no other process can take
    the port between the choice and the start.

    Example:
        >>> a = listen(first=18400)
        >>> b = listen(first=18400)  # taken: the next one
        >>> b.getsockname()[1] > a.getsockname()[1]
        True
        >>> a.close(); b.close()
    """
    for port in range(first, first + tries):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((HOST, port))
        except OSError:
            sock.close()
            continue
        sock.listen(128)
        return sock
    raise UsageError(f"no free port on {HOST} from {first} to {first + tries - 1}")


def _viewer_token(settings: Any, system: str) -> tuple[str, list[str]]:
    """A new viewer of ``system``, its token's secret (the audit log has its id only), and
    the monitoring pages of the system's monitored versions."""
    from trustops.core.access import Role
    from trustops.governance import Registry
    from trustops.governance.identity import Identity
    from trustops.monitoring.store import list_monitors
    from trustops.server.dashboard.routes import model_path

    with Registry.open(settings=settings) as reg:
        monitored = sorted(
            {m.model for m in list_monitors(reg) if m.model.startswith(f"{system}/")}
        )
        identity = Identity(reg)
        if VIEWER not in {u.name for u in identity.users()}:
            identity.create_user(VIEWER)
        identity.grant(VIEWER, system, Role.VIEWER)
        issued = identity.issue_token(
            VIEWER, expires_at=datetime.now(UTC) + TOKEN_TTL, label="trustops demo --serve"
        )
    pages = [f"/systems/{system}/models/{model_path(m.split('/', 1)[1])}/monitoring"
             for m in monitored]  # fmt: skip
    return issued.secret, pages


def _check(url: str, token: str, pages: list[str]) -> tuple[int, list[int]]:
    """The status of ``/readyz``, and of the overview page and ``pages`` for the viewer."""
    import httpx

    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, timeout=60) as client:
        ready = client.get("/readyz").status_code
        answers = [client.get(page, headers=auth).status_code for page in ["/", *pages]]
    return ready, answers


def serve_demo(
    output: Path,
    console: Console,
    *,
    system: str = "credit-scoring",
    port: int = 8000,
    keep_serving: bool | None = None,
) -> None:
    """Serve the demo's workspace in ``output`` (see the module docstring).

    ``keep_serving`` None: :func:`interactive` decides. Not serving on: raises
    :class:`typer.Exit` (1) when the server is not ready or the overview page
    is refused.
    """
    import typer
    import uvicorn

    from trustops.cli.demo_erasure import demo_settings
    from trustops.governance import find_workspace
    from trustops.governance.workspace import load_settings
    from trustops.server.app import create_app
    from trustops.server.ops import configure_logging

    workspace = find_workspace(output)
    if workspace is None:
        raise UsageError(f"no demo workspace in {output}")
    settings = load_settings(workspace, env={}, overrides=demo_settings(workspace))
    token, pages = _viewer_token(settings, system)
    sock = listen(first=port)
    url = f"http://{HOST}:{sock.getsockname()[1]}"
    configure_logging("warning")  # the tour's output stays readable; errors still show
    config = uvicorn.Config(
        create_app(settings),
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    console.rule("[bold]The trustops server over the demo's store")
    console.print(f"dashboard: [bold]{url}/[/]  (REST API under {url}/api/v1)")
    console.print(f"viewer token for {VIEWER} ({system}, expires in a day; shown once):")
    console.print(escape(token), soft_wrap=True, highlight=False)
    console.print(f"log in: open {url}/login and paste the token", highlight=False)
    for page in pages:
        console.print(f"fairness drift over time: {url}{page}", highlight=False, soft_wrap=True)
    privacy = f"/systems/{system}/privacy"
    console.print(
        f"privacy (Art. 30 record, data uses, erasure requests): {url}{privacy}",
        highlight=False, soft_wrap=True,
    )  # fmt: skip
    console.print(
        f"or call the API: curl -H 'Authorization: Bearer <token>' {url}/api/v1/systems",
        soft_wrap=True, highlight=False, markup=False,
    )  # fmt: skip
    if keep_serving is None:
        keep_serving = interactive()
    if keep_serving:
        console.print("serving until Ctrl-C")
        try:
            server.run(sockets=[sock])  # uvicorn shuts down, then re-raises the Ctrl-C
        except KeyboardInterrupt:
            pass
        finally:
            sock.close()
        console.print("server stopped")
        return
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            thread.join(0.05)
        ready, answers = (
            _check(url, token, [*pages, privacy]) if server.started else (0, [0] * (2 + len(pages)))
        )
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
    ok = ready == 200 and all(status == 200 for status in answers)
    verdict = "[bold green]ok[/]" if ok else "[bold red]FAILED[/]"
    monitoring = "".join(f", monitoring page {status}" for status in answers[1:-1])
    monitoring += f", privacy page {answers[-1]}"
    console.print(
        f"server check {verdict}: /readyz {ready}, overview page {answers[0]}{monitoring} "
        f"for {VIEWER}; "
        "stopped (not a terminal, or CI): run `trustops demo --serve` at a terminal, or "
        f"`trustops --workspace {escape(str(output))} serve`, to keep it running"
    )
    if not ok:
        raise typer.Exit(1)
