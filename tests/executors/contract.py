"""The executor contract (:mod:`retrograde.executors.base`), as one suite for every executor.

An executor's test module subclasses :class:`ExecutorContract` and says how
to build one, as ``tests/executors/test_executor_contract.py`` does::

    class TestThreadExecutor(ExecutorContract):
        def make_executor(self, jobs: int) -> Executor:
            return ThreadExecutor(jobs)

The actions are real: ``/bin/sh`` commands and Python functions in ``tmp_path``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from retrograde.errors import HandlerError
from retrograde.executors.base import Executor
from retrograde.model.apply import ActionResult
from tests.executors.conftest import ActionModule, action_request

MakeExecutor = Callable[[int], Executor]

RESULT_KEYS = set(ActionResult.__annotations__) - {"withdrawn", "observed"}
"""The keys of a result of an action that ran (``withdrawn`` marks one that never did;
``observed`` is only on a read that reports values)."""

MARK = 'echo "{what} {{{{ resource }}}}" >> marks.log'
MEASURED = f"{MARK.format(what='start')}; sleep 0.1; {MARK.format(what='end')}"
"""Appends ``start R`` and ``end R`` around a short sleep (appends of one line are atomic)."""

WAIT_FOR_ALL = (
    "touch {{ resource }}.ready; while [ $(ls *.ready | wc -l) -lt {n} ]; do sleep 0.02; done"
)
"""Each command signals it started, then waits for ``n`` to have started: only parallel runs
finish."""


def peak_running(marks: list[str]) -> int:
    """The most actions between their ``start`` and ``end`` marks at any one time."""
    running = peak = 0
    for line in marks:
        running += 1 if line.startswith("start ") else -1
        peak = max(peak, running)
    return peak


class ExecutorContract:
    """What every executor promises the runner."""

    def make_executor(self, jobs: int) -> Executor:
        """A new executor running up to ``jobs`` actions at once (the hook of the contract)."""
        raise NotImplementedError

    @pytest.fixture
    def executor(self) -> Iterator[MakeExecutor]:
        """``make_executor``, with every executor it made shut down after the test."""
        made: list[Executor] = []

        def make(jobs: int) -> Executor:
            made.append(self.make_executor(jobs))
            return made[-1]

        yield make
        for one in made:
            one.shutdown()

    @pytest.mark.parametrize("jobs", [1, 3])
    def test_capacity_is_the_jobs_bound(self, executor: MakeExecutor, jobs: int) -> None:
        """The runner keeps ``capacity`` actions in flight: it is what the executor was built
        with."""
        assert executor(jobs).capacity == jobs

    @pytest.mark.parametrize("jobs", [0, -1])
    def test_jobs_below_one_is_refused(self, jobs: int) -> None:
        """A pool without workers would hang every apply, so it is a HandlerError."""
        with pytest.raises(HandlerError, match="jobs must be at least 1"):
            self.make_executor(jobs)

    def test_submit_returns_a_future_of_the_action_result(
        self, executor: MakeExecutor, tmp_path: Path
    ) -> None:
        """The future resolves to an ActionResult naming the resource, after the action ran."""
        future = executor(1).submit(action_request("shell", "touch ran", tmp_path, "a"))
        result = future.result(timeout=60)
        assert set(result) == RESULT_KEYS
        assert (result["resource"], result["ok"], result["exit_code"]) == ("a", True, None)
        assert result["duration"] >= 0
        assert (tmp_path / "ran").exists()

    def test_many_noop_python_actions_all_succeed(
        self, executor: MakeExecutor, noop_target: str, tmp_path: Path
    ) -> None:
        """200 python actions on 4 workers all succeed, each result naming its resource."""
        running = executor(4)
        futures = [
            running.submit(action_request("python", noop_target, tmp_path, f"r{i}"))
            for i in range(200)
        ]
        results = [future.result(timeout=60) for future in futures]
        assert all(result["ok"] for result in results)
        assert [result["resource"] for result in results] == [f"r{i}" for i in range(200)]

    def test_failures_come_back_in_the_future(self, executor: MakeExecutor, tmp_path: Path) -> None:
        """A failing action resolves its future to a failure value rather than an exception."""
        running = executor(1)
        future = running.submit(action_request("shell", "exit 5", tmp_path, "db"))
        bad_kind = running.submit(action_request("chef", "x", tmp_path, "web"))
        result, unknown = future.result(timeout=60), bad_kind.result(timeout=60)
        assert (result["ok"], result["exit_code"]) == (False, 5)
        assert (unknown["ok"], unknown["resource"]) == (False, "web")

    @pytest.mark.parametrize(
        ("raised", "named"),
        [("ValueError('bad input')", "ValueError: bad input"), ("SystemExit(3)", "SystemExit: 3")],
    )
    def test_a_raising_handler_is_a_failed_result(
        self,
        executor: MakeExecutor,
        action_module: ActionModule,
        tmp_path: Path,
        raised: str,
        named: str,
    ) -> None:
        """An exception in a python action is a failure value whose error names it."""
        target = action_module(f"def act(context):\n    raise {raised}\n")
        result = executor(1).submit(action_request("python", target, tmp_path, "x"))
        failed = result.result(timeout=60)
        assert (failed["ok"], failed["resource"]) == (False, "x")
        assert failed["error"].startswith(named)

    def test_a_handler_raising_base_exception_still_yields_a_failed_result(
        self, executor: MakeExecutor, action_module: ActionModule, tmp_path: Path
    ) -> None:
        """A BaseException that is not an interrupt (e.g. a library's own) is a failure too."""
        target = action_module(
            "class Abort(BaseException):\n    pass\n\n"
            "def act(context):\n    raise Abort('gave up')\n"
        )
        result = executor(1).submit(action_request("python", target, tmp_path, "x"))
        failed = result.result(timeout=60)
        assert (failed["ok"], failed["resource"]) == (False, "x")
        assert "Abort: gave up" in failed["error"]

    def test_requests_and_results_are_plain_json(
        self, executor: MakeExecutor, tmp_path: Path
    ) -> None:
        """A request that went through JSON runs the same, its handler reads the context as
        sent, and results come back equal through a JSON round trip."""
        request = action_request("shell", "cat > seen.json; exit 4", tmp_path, "db")
        request["context"]["inputs"] = {"ip": "10.0.0.1", "port": 5000, "tags": ["a", None]}
        shipped = json.loads(json.dumps(request))
        assert shipped == request
        result = executor(1).submit(shipped).result(timeout=60)
        assert json.loads(json.dumps(result)) == result
        assert (result["ok"], result["exit_code"]) == (False, 4)
        assert json.loads((tmp_path / "seen.json").read_text()) == request["context"]

    def test_capacity_actions_run_at_once(self, executor: MakeExecutor, tmp_path: Path) -> None:
        """``capacity`` actions that each wait for all the others all finish: they ran together."""
        running = executor(3)
        command = WAIT_FOR_ALL.replace("{n}", "3")
        futures = [
            running.submit(action_request("shell", command, tmp_path, name))
            for name in ("a", "b", "c")
        ]
        results = [future.result(timeout=60) for future in futures]
        assert [result["ok"] for result in results] == [True, True, True], results

    def test_concurrency_never_exceeds_capacity(
        self, executor: MakeExecutor, tmp_path: Path
    ) -> None:
        """Twelve submitted at once on capacity 3: at no moment do more than 3 run."""
        running = executor(3)
        futures = [
            running.submit(action_request("shell", MEASURED, tmp_path, f"r{i}")) for i in range(12)
        ]
        assert all(future.result(timeout=60)["ok"] for future in futures)
        marks = (tmp_path / "marks.log").read_text().splitlines()
        assert sorted(marks) == sorted(f"{w} r{i}" for i in range(12) for w in ("start", "end"))
        assert 1 <= peak_running(marks) <= 3

    def test_withdraw_leaves_actions_that_began_to_finish(
        self, executor: MakeExecutor, tmp_path: Path
    ) -> None:
        """Withdrawing once every submitted action has begun takes none back: all succeed."""
        running = executor(3)
        command = WAIT_FOR_ALL.replace("{n}", "3") + "; sleep 0.3"
        futures = [
            running.submit(action_request("shell", command, tmp_path, name)) for name in "abc"
        ]
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("*.ready"))) < 3:
            assert time.monotonic() < deadline, "the actions never began"
            time.sleep(0.02)
        running.withdraw()
        results = [future.result(timeout=60) for future in futures]
        assert [(r["ok"], "withdrawn" in r) for r in results] == [(True, False)] * 3

    def test_shutdown_waits_for_submitted_actions(self, tmp_path: Path) -> None:
        """Actions submitted before shutdown finish before shutdown returns."""
        executor = self.make_executor(2)
        futures = [
            executor.submit(action_request("shell", f"sleep 0.2; touch done{i}", tmp_path, f"r{i}"))
            for i in range(4)
        ]
        executor.shutdown()
        assert all(future.done() for future in futures)
        names = sorted(path.name for path in tmp_path.glob("done*"))
        assert names == [f"done{i}" for i in range(4)]
