"""Apply progress on stderr: a live bar on a terminal, and with ``-v`` one line per action.

Both implement the engine's ``Progress``. ``action_started`` may come from a
worker thread, so what it shares with ``action_done`` is guarded by a lock,
and lines go through the console (which serialises writes and keeps them
above a live bar). Data (resource names, failure texts) is escaped and never
read as markup.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from retrograde.cli.text import clip, escape, name_list

if TYPE_CHECKING:
    from retrograde.model.jsonvalue import JSON

RUNNING_WIDTH = 40
"""Characters of running resource names the bar shows before summarising the rest."""

FAILURE_WIDTH = 120
"""Characters of a failure's first line shown in an ``apply -v`` line."""


class ApplyProgress:
    """The engine's ``Progress`` on stderr: a bar (``bar``), lines per action (``verbose``)."""

    def __init__(self, console: Console, *, bar: bool = True, verbose: bool = False) -> None:
        self._console = console
        self._verbose = verbose
        self._lock = threading.Lock()
        self._running: dict[str, float] = {}
        self._starts: dict[str, int] = {}
        self._failed = 0
        self._bar_column = BarColumn()
        self._bar: Progress | None = None
        if bar:
            self._bar = Progress(
                TextColumn("[bold]applying"),
                self._bar_column,
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]}", style="red"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[running]}", markup=False),
                console=console,
                transient=True,
            )
            self._task = self._bar.add_task("apply", total=None, failed="", running="")

    def __enter__(self) -> ApplyProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def begin(self, total: int) -> None:
        """Show the bar (only now: a confirmation prompt may come before the run)."""
        if self._bar is not None:
            self._bar.start()
            self._bar.update(self._task, total=total)

    def action_started(self, resource: str, action: str) -> None:
        with self._lock:
            self._running[resource] = time.monotonic()
            attempt = self._starts[resource] = self._starts.get(resource, 0) + 1
            self._refresh(advance=0)
        if self._verbose:
            again = f" (attempt {attempt})" if attempt > 1 else ""
            self._line(Text(escape(f"→ {action} {resource}{again}")))

    def action_done(
        self,
        resource: str,
        action: str,
        ok: bool,
        failure: Mapping[str, JSON] | None = None,
    ) -> None:
        with self._lock:
            started = self._running.pop(resource, None)
            self._failed += 0 if ok else 1
            self._refresh(advance=1)
        if not self._verbose:
            return
        if ok:
            took = "" if started is None else f" {time.monotonic() - started:.1f} s"
            self._line(Text.assemble(("✓", "green"), escape(f" {action} {resource}{took}")))
        else:
            why = _failure_text(failure or {})
            self._line(Text.assemble(("✗", "red"), escape(f" {action} {resource}: {why}")))

    def _refresh(self, *, advance: int) -> None:
        """The bar after a start or an outcome (under the lock): counts, running names, colour."""
        if self._bar is None:
            return
        if self._failed:
            self._bar_column.complete_style = "red"
            self._bar_column.finished_style = "red"
        running = name_list(sorted(self._running), RUNNING_WIDTH)
        failed = f"{self._failed} failed" if self._failed else ""
        self._bar.update(self._task, advance=advance, failed=failed, running=escape(running))

    def _line(self, text: Text) -> None:
        console = self._bar.console if self._bar is not None else self._console
        console.print(text, highlight=False, markup=False, soft_wrap=True)


def _failure_text(failure: Mapping[str, JSON]) -> str:
    """``exit 2``, or the first line of the error (a timeout, an exception, a missing program)."""
    code = failure.get("exit_code")
    if isinstance(code, int):
        return f"exit {code}"
    error = str(failure.get("error") or "failed").strip()
    return clip(error.splitlines()[0] if error else "failed", FAILURE_WIDTH)
