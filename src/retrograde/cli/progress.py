"""A rich progress bar for apply, shown only on a terminal."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class ApplyProgress:
    """Implements the engine's ``Progress`` with a live bar on stderr."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(
            TextColumn("[bold]applying"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self._bar.add_task("apply", total=None, failed=0)
        self._failed = 0

    def __enter__(self) -> ApplyProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def begin(self, total: int) -> None:
        """Show the bar (only now: a confirmation prompt may come before the run)."""
        self._bar.start()
        self._bar.update(self._task, total=total)

    def action_done(self, resource: str, action: str, ok: bool) -> None:
        if not ok:
            self._failed += 1
        self._bar.update(self._task, advance=1, failed=self._failed)
