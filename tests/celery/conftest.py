"""Fixtures for the Celery executor's tests: the services, and workers started per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.celery.workers import Services, Workers, services, workers


@pytest.fixture
def celery_services(monkeypatch: pytest.MonkeyPatch) -> Services:
    """The broker and backend, also set for the coordinator (this process)."""
    found = services()
    monkeypatch.setenv("RETROGRADE_CELERY_BROKER", found.broker)
    monkeypatch.setenv("RETROGRADE_CELERY_BACKEND", found.backend)
    return found


@pytest.fixture
def celery_workers(celery_services: Services) -> Iterator[Workers]:
    with workers(celery_services) as started:
        yield started
