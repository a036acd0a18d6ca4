"""The worker command: run the handlers of actions that applies send to Celery queues."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import click

from retrograde import config


@click.command()
@click.option("--name", help="This worker's name, RETROGRADE_WORKER for handlers (default: host).")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    metavar="Q[,Q…]",
    help="Queues to consume (a comma list; repeatable). Default: RETROGRADE_CELERY_QUEUE.",
)
@click.option(
    "--root",
    default=".",
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="This machine's checkout of the stack directory; handlers run under it.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1024),
    help="Actions run at once (processes). Default: the number of CPUs.",
)
@click.option(
    "--prefetch",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="Messages each process holds ahead: more is faster for short actions, but they wait"
    " behind a long one that another worker could have taken.",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The store's secret key file, which opens the secret values actions carry (sealed)."
    " Default: RETROGRADE_SECRET_KEY_FILE, else the store id's file in"
    " ~/.config/retrograde/keys/.",
)
def worker(
    name: str | None,
    queues: tuple[str, ...],
    root: Path,
    concurrency: int | None,
    prefetch: int,
    key_file: Path | None,
) -> None:
    """Run actions sent by `apply --executor celery` (see docs/scale-out.md).

    Connects to RETROGRADE_CELERY_BROKER and RETROGRADE_CELERY_BACKEND, logs
    Celery's `ready` line once it consumes, and runs until stopped (SIGTERM
    lets running actions finish).
    """
    from retrograde.executors.worker import WorkerOptions, run_worker, split_queues

    options = WorkerOptions(
        name=name or socket.gethostname(),
        queues=split_queues(queues, config.celery_queue()),
        root=root,
        concurrency=concurrency or os.cpu_count() or 1,
        prefetch=prefetch,
        key_file=key_file.expanduser().resolve() if key_file else None,
    )
    run_worker(options)
