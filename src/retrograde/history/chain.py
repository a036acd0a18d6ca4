"""The chain audit: what every commit of a log must satisfy, checked one commit at a time.

Pure (no store, no files): ``verify`` feeds it the stored commits, ``import``
the commits of an export file, both in revision order, and each decides what
a problem means (``verify`` lists them, ``import`` stops at the first). For
each commit:

- revisions run 1, 2, 3, ... without a gap;
- its hash is SHA-256 over the previous hash and its content (canonical
  JSON), so editing any field of a commit, or its hash, shows at that
  revision;
- its timestamp is not earlier than the previous commit's (time-range
  search relies on it);
- it replays onto the state the commits before it left
  (:func:`~retrograde.planning.replay.replay_commit`); after the first commit
  that does not, replay stops (the state would be meaningless).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from retrograde.errors import CorruptLogError
from retrograde.model.commit import GENESIS_HASH, Commit, commit_hash
from retrograde.model.reports import Problem, ProblemKind
from retrograde.model.state import ResourceState
from retrograde.planning.replay import replay_commit


@dataclass
class ChainAudit:
    """Where a walk over a log stands: the last revision, hash and time, and replayed state."""

    rev: int = 0
    hash: str = GENESIS_HASH
    timestamp: str | None = None
    state: dict[str, ResourceState] = field(default_factory=dict)
    replaying: bool = True
    inputs: int = 0
    """Input names in the diffs seen so far (what the input index must hold)."""

    def check(self, commit: Commit) -> list[Problem]:
        """The problems of ``commit`` as the next commit of the log, then move past it."""
        problems = [
            problem
            for problem in (self._gap(commit), self._hash(commit), self._order(commit))
            if problem is not None
        ]
        replayed = self._replay(commit)
        if replayed is not None:
            problems.append(replayed)
        self.rev, self.hash, self.timestamp = commit.rev, commit.hash, commit.timestamp
        self.inputs += len(commit.changed_inputs())
        return problems

    def skip(self, rev: int, stored_hash: str) -> None:
        """Move past a commit that cannot be read: the chain goes on from its stored hash,
        replay stops."""
        self.rev, self.hash, self.replaying = rev, stored_hash, False

    def _gap(self, commit: Commit) -> Problem | None:
        if commit.rev == self.rev + 1:
            return None
        missing = f"rev {self.rev + 1}" + (
            f" to {commit.rev - 1}" if commit.rev - 1 > self.rev + 1 else ""
        )
        return Problem(
            ProblemKind.GAP,
            f"expected rev {self.rev + 1}, found rev {commit.rev}: {missing} missing before it",
            rev=commit.rev,
        )

    def _hash(self, commit: Commit) -> Problem | None:
        computed = commit_hash(commit.body(), self.hash)
        if computed == commit.hash:
            return None
        return Problem(
            ProblemKind.HASH,
            f"hash mismatch: stored {commit.hash[:12]}…, content and previous hash "
            f"give {computed[:12]}… (the commit or the one before it was altered)",
            rev=commit.rev,
        )

    def _order(self, commit: Commit) -> Problem | None:
        if self.timestamp is None or commit.timestamp >= self.timestamp:
            return None
        return Problem(
            ProblemKind.ORDER,
            f"timestamp {commit.timestamp} is earlier than the previous commit's",
            rev=commit.rev,
        )

    def _replay(self, commit: Commit) -> Problem | None:
        if not self.replaying:
            return None
        try:
            replay_commit(self.state, commit)
        except CorruptLogError as error:
            self.replaying = False
            return Problem(
                ProblemKind.REPLAY, error.message, rev=commit.rev, resource=commit.resource
            )
        return None
