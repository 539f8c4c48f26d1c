"""The server's background monitoring: every ``interval`` seconds, run the monitors that are due.

:class:`MonitorScheduler` is started and stopped by the application's lifespan
(:func:`trustops.server.app.create_app`, ``monitor_interval``). Each tick
calls :func:`trustops.monitoring.runner.run_due_monitors` — the function
``trustops monitor run --due`` calls — in a worker thread, so requests are
served meanwhile; its windows, alerts, deliveries and triggers are recorded
and audited there, with ``trustops-scheduler`` as the actor. The first tick
comes one interval after start-up; stopping waits for a tick in progress to
finish (a window is stored whole or not at all either way).

A tick that fails is logged on the ``trustops.server`` logger with the error's
type (never its message, which may hold data); the same failure tick after
tick is logged once, then again only when it changes or clears.

Example:
    >>> import asyncio, tempfile
    >>> from trustops.governance import init_workspace
    >>> from trustops.governance.workspace import load_settings
    >>> from trustops.server.store import Store
    >>> store = Store.open(load_settings(init_workspace(tempfile.mkdtemp()), env={}))
    >>> scheduler = MonitorScheduler(store, interval=0.01)
    >>> async def briefly():
    ...     scheduler.start()
    ...     await asyncio.sleep(0.1)
    ...     await scheduler.stop()
    >>> asyncio.run(briefly())
    >>> scheduler.ticks > 0, scheduler.running
    (True, False)
    >>> store.close()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trustops.server.store import Store

__all__ = ["DEFAULT_MONITOR_INTERVAL", "SCHEDULER_ACTOR", "MonitorScheduler"]

DEFAULT_MONITOR_INTERVAL = 60.0
"""Seconds between two looks for due monitors (``trustops serve --monitor-interval``)."""

SCHEDULER_ACTOR = "trustops-scheduler"
"""The actor of what the background runs record in the audit log."""

log = logging.getLogger("trustops.server")


class MonitorScheduler:
    """Runs due monitors over ``store`` every ``interval`` seconds until stopped."""

    def __init__(
        self,
        store: Store,
        *,
        interval: float = DEFAULT_MONITOR_INTERVAL,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if interval <= 0:
            raise ValueError("the monitor interval must be positive")
        self.store = store
        self.interval = interval
        self.clock = clock
        self.ticks = 0
        self._failure: str | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def tick(self) -> int:
        """Run the due monitors once; the number of windows evaluated (0 after a failure)."""
        from trustops.monitoring.runner import run_due_monitors

        self.ticks += 1
        try:
            runs = run_due_monitors(self.store.registry(SCHEDULER_ACTOR), self.clock())
        except Exception as exc:  # logged, never raised: the next tick tries again
            failure = type(exc).__name__
            if failure != self._failure:
                log.warning(
                    "due monitors failed", extra={"fields": {"task": "monitors", "error": failure}}
                )
            self._failure = failure
            return 0
        if self._failure is not None:
            log.info("due monitors run again", extra={"fields": {"task": "monitors"}})
            self._failure = None
        windows = sum(len(r.evaluation.windows) for r in runs)
        if windows:
            log.info(
                "due monitors run",
                extra={"fields": {"task": "monitors", "monitors": len(runs), "windows": windows,
                                  "alerts": sum(len(r.raised) for r in runs)}},
            )  # fmt: skip
        return windows

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)
                return  # stopped
            except TimeoutError:
                pass
            await asyncio.to_thread(self.tick)

    def start(self) -> None:
        """Start ticking (in the running event loop)."""
        self._stop.clear()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop, after the tick in progress (if any) has finished."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
