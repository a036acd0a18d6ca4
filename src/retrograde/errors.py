"""The one exception tree of retrograde.

Every error carries structured fields (resource, input, revision, location,
cycle) from which its one-line message is built; adapters decide how it looks.
Driver errors (SQLAlchemy, subprocess, YAML) are translated where they enter,
with ``raise ... from``.

::

    RetrogradeError
    ├── StackError              the stack file is malformed or inconsistent
    │   ├── StackSyntaxError        YAML syntax (file, line, column)
    │   ├── UnknownTypeError        a resource names a type that is not defined
    │   ├── UnknownReferenceError   ${resource.input} names no resource or input
    │   ├── InputTypeError          a value is not of its input's declared type
    │   ├── MissingInputError       a required input has no value
    │   ├── CycleError              connections form a cycle (names every resource on it)
    │   ├── IncludeError            an include is refused (outside the allowed directories,
    │   │                           not a regular file, too large, not UTF-8)
    │   ├── StackLimitError         a file is too large, nests too deep or expands too far
    │   ├── IntegerRangeError       an integer is outside the signed 64-bit range
    │   ├── MaskedSecretError       a secret input is given as *** or state --stack's placeholder
    │   ├── VarError                a stack var is unknown, unset or of the wrong type
    │   └── MigrationStepError      a type's migration step is malformed or failed
    ├── StoreError              the store cannot be opened, read or written
    │   ├── CorruptLogError         a stored commit or state fails verification
    │   ├── ReadOnlyStoreError      a verb that writes, on a store this process can only read
    │   ├── StoreOutdatedError      a read-only store's schema is older than this retrograde's
    │   ├── StoreBusyError          another process's open transaction held the database too long
    │   └── SecretKeyError          the store's secret key file is missing or wrong (names it)
    │       └── SecretTamperedError a stored secret does not decrypt where it sits (moved, edited)
    ├── NotFoundError           an unknown resource, revision, apply or checkpoint
    ├── AlreadyExistsError      a name that must be unique is taken (e.g. a checkpoint)
    ├── InvalidNameError        a name the user chose is not allowed (e.g. a checkpoint)
    ├── FileAccessError         a file named on the command line cannot be written or read
    ├── PlanFileError           a saved plan file is unreadable, of an unknown version, or edited
    ├── ExcludedNeededError     an excluded resource is needed by a selected one (names both)
    ├── ConflictError           a revert or rollback no longer matches current state
    ├── StateError              the operation is not allowed now (e.g. nothing staged)
    │   ├── StoreLockedError        another process holds the store lock (names the holder)
    │   ├── InterruptedApplyError   an interrupted apply must be resumed or discarded first
    │   ├── LockLostError           a running apply no longer holds the store lock
    │   ├── MigrationPathError      no migration between the two versions of a type
    │   ├── PlanChangedError        the staged work differs from the plan that was confirmed
    │   │   └── PlanDigestError         ... from the plan whose digest was given (HTTP apply)
    │   └── StalePlanError          the staged log or committed head moved since a plan was saved
    ├── HandlerError            a handler is misconfigured (unknown kind, bad target)
    ├── ExecutorError           an executor cannot run actions (its broker is unreachable)
    ├── TokenRefusedError       an API token is unknown, revoked or expired
    └── InsecureListenError     serve beyond loopback without TLS (exit 2)
"""

from __future__ import annotations

from collections.abc import Sequence


class RetrogradeError(Exception):
    """Base of every error retrograde raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


_LINE_BREAKS = {
    code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    for code in (*range(0x20), 0x7F, 0x85, 0x2028, 0x2029)
    if chr(code) != "\t"
}
"""Characters that would break a message into lines or drive a terminal, as escapes."""


def one_line(text: str) -> str:
    """``text`` with line breaks and control characters escaped (``\\x0a``), so it stays one
    line whatever names a hostile file holds."""
    return text.translate(_LINE_BREAKS)


class StackError(RetrogradeError):
    """The stack file cannot be used; ``location`` says where (``file:line:col``).

    The message is always one line: names and values taken from the file are
    escaped where they would break it.
    """

    def __init__(self, problem: str, *, location: str | None = None) -> None:
        self.problem = problem
        self.location = location
        super().__init__(one_line(f"{location}: {problem}" if location else problem))


class StackSyntaxError(StackError):
    """The stack file is not valid YAML or not shaped like a stack file."""


class UnknownTypeError(StackError):
    """A resource names a resource type that no file defines."""

    def __init__(self, resource: str, type_name: str, *, location: str | None = None) -> None:
        self.resource = resource
        self.type_name = type_name
        super().__init__(f"resource {resource!r} has unknown type {type_name!r}", location=location)


class UnknownReferenceError(StackError):
    """A connection or a named resource/input does not exist."""

    def __init__(
        self,
        problem: str,
        *,
        resource: str | None = None,
        input: str | None = None,
        location: str | None = None,
    ) -> None:
        self.resource = resource
        self.input = input
        super().__init__(problem, location=location)


class InputTypeError(StackError):
    """A value does not match its input's declared type (a secret value prints as ``***``)."""

    def __init__(
        self,
        resource: str,
        input: str,
        expected: str,
        value: object,
        *,
        location: str | None = None,
        secret: bool = False,
    ) -> None:
        self.resource = resource
        self.input = input
        self.expected = expected
        self.value = value
        self.secret = secret
        shown = "***" if secret else repr(value)
        super().__init__(
            f"input {resource}.{input} must be {expected}, got {type(value).__name__} {shown}",
            location=location,
        )


class MissingInputError(StackError):
    """A required input (no default) has no value."""

    def __init__(self, resource: str, input: str, *, location: str | None = None) -> None:
        self.resource = resource
        self.input = input
        super().__init__(
            f"resource {resource!r} is missing required input {input!r}", location=location
        )


class CycleError(StackError):
    """Connections form a cycle; ``cycle`` lists every resource on it, in order."""

    def __init__(self, cycle: Sequence[str], *, location: str | None = None) -> None:
        self.cycle = tuple(cycle)
        path = " -> ".join([*self.cycle, self.cycle[0]]) if self.cycle else ""
        super().__init__(f"dependency cycle: {path}", location=location)


class IncludeError(StackError):
    """An include is refused: ``include`` as written, ``reason`` why (never the file's content)."""

    def __init__(self, include: str, reason: str, *, location: str | None = None) -> None:
        self.include = include
        self.reason = reason
        super().__init__(f"cannot include {include!r}: {reason}", location=location)


class MaskedSecretError(StackError):
    """A secret input (or a secret default) is ``***`` or the placeholder ``state --stack``
    writes: staging it would overwrite the real secret with a mask."""

    def __init__(self, input: str, *, default: bool = False, location: str | None = None) -> None:
        self.input = input
        self.default = default
        what = f"the default of secret input {input}" if default else f"secret input {input}"
        super().__init__(
            f"{what} holds a masked value (*** or the placeholder state --stack writes), "
            "not a secret: put the real value in before staging",
            location=location,
        )


class VarError(StackError):
    """A stack var (``vars:``, ``--var``, ``--var-file``, ``RETROGRADE_VAR_<name>``) cannot be
    used: unknown, without a value, or of the wrong type. ``var`` names it."""

    def __init__(self, var: str, problem: str, *, location: str | None = None) -> None:
        self.var = var
        super().__init__(problem, location=location)


class StackLimitError(StackError):
    """A stack file is larger, nests deeper or expands (through aliases) further than allowed."""


class IntegerRangeError(StackError):
    """An integer in a stack file is outside the signed 64-bit range.

    ``resource`` and ``input`` are set when the integer sits in a resource's
    input; ``path`` is where it sits in the file (``types.web.inputs.port.default``).
    ``digits`` is the integer as written, shortened.
    """

    def __init__(
        self,
        digits: str,
        *,
        path: str,
        resource: str | None = None,
        input: str | None = None,
        location: str | None = None,
    ) -> None:
        self.digits = digits
        self.path = path
        self.resource = resource
        self.input = input
        where = f"input {resource}.{input}" if resource is not None else path
        super().__init__(
            f"{where}: integer {digits} is outside the signed 64-bit range", location=location
        )


class StoreError(RetrogradeError):
    """The store cannot be opened, read or written (driver errors end up here)."""


class CorruptLogError(StoreError):
    """The commit log or committed state fails verification."""

    def __init__(
        self, problem: str, *, rev: int | None = None, resource: str | None = None
    ) -> None:
        self.rev = rev
        self.resource = resource
        super().__init__(problem)


class ReadOnlyStoreError(StoreError):
    """The store can only be read here (file, directory or database read-only) and a verb
    needs to write it; verbs that only read still work."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            f"cannot write to store {url}: it is read-only here; verbs that only read it "
            "(log, state, verify ...) work, changing it needs write access"
        )


class StoreOutdatedError(StoreError):
    """A store that can only be read has an older schema than this retrograde needs: it must
    be upgraded (any command does it) by someone who can write it."""

    def __init__(self, url: str, *, revision: str | None, needed: str) -> None:
        self.url = url
        self.revision = revision
        self.needed = needed
        super().__init__(
            f"cannot open store {url}: its schema is at revision {revision or 'none'} and this "
            f"retrograde needs {needed}; the store is read-only here, so it needs upgrading "
            "by someone who can write it (any retrograde command they run upgrades it)"
        )


class StoreBusyError(StoreError):
    """A write waited ``waited`` seconds for the database, held by another process's open
    transaction; names the store lock's recorded holder when there is one."""

    def __init__(
        self,
        url: str,
        *,
        waited: float,
        holder: str | None = None,
        principal: str | None = None,
        host: str | None = None,
        pid: int | None = None,
        since: str | None = None,
    ) -> None:
        self.url = url
        self.waited = waited
        self.principal = principal
        self.host = host
        self.pid = pid
        self.since = since
        who = (
            f"the store lock is held by {holder} of {principal} on {host} (pid {pid}) since {since}"
            if holder is not None
            else "the store lock names no holder"
        )
        super().__init__(
            f"cannot write to store {url}: its database is held by another process's open "
            f"transaction ({who}); gave up after {waited:g} s (RETROGRADE_BUSY_TIMEOUT)"
        )


class SecretKeyError(StoreError):
    """Secret values cannot be decrypted: the key file ``key_file`` is missing or not the
    store's (``problem`` says which); read verbs still work, showing secrets as ``***``."""

    def __init__(self, key_file: str, problem: str) -> None:
        self.key_file = key_file
        self.problem = problem
        super().__init__(
            one_line(
                f"secret key file {key_file} {problem}: secret values cannot be decrypted "
                "(set RETROGRADE_SECRET_KEY_FILE to the store's key file; see docs/security.md)"
            )
        )


class SecretTamperedError(SecretKeyError):
    """A stored ciphertext does not decrypt for the resource input it sits in: moved from
    another input, edited, or sealed under another data key. Never a wrong value."""

    def __init__(self, key_file: str, resource: str, input: str) -> None:
        self.key_file = key_file
        self.problem = "tampered"
        self.resource = resource
        self.input = input
        RetrogradeError.__init__(
            self,
            one_line(
                f"the stored secret of {resource}.{input} does not decrypt with key file "
                f"{key_file}: it was moved from another input, edited, or sealed under "
                "another key"
            ),
        )


class NotFoundError(RetrogradeError):
    """An unknown resource, revision, apply or checkpoint was named."""

    def __init__(self, kind: str, name: object) -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"unknown {kind} {name!r}")


class AlreadyExistsError(RetrogradeError):
    """A name that must be unique (a checkpoint's) is already taken."""

    def __init__(self, kind: str, name: object, *, detail: str = "") -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"{kind} {name!r} already exists" + (f" ({detail})" if detail else ""))


class InvalidNameError(RetrogradeError):
    """A name the user chose (a checkpoint's) breaks the naming rule given in ``rule``."""

    def __init__(self, kind: str, name: object, rule: str) -> None:
        self.kind = kind
        self.name = name
        self.rule = rule
        super().__init__(f"invalid {kind} name {name!r}: {rule}")


class FileAccessError(RetrogradeError):
    """A file the user named (an export's ``-o FILE``) cannot be used; ``reason`` says why.

    ``reason`` is the operating system's (``No such file or directory``), so
    the message names both the path as the user wrote it and the cause.
    """

    def __init__(self, what: str, path: str, reason: str, *, verb: str = "write") -> None:
        self.what = what
        self.path = path
        self.reason = reason
        super().__init__(f"cannot {verb} {what} {path!r}: {reason}")


class ConflictError(RetrogradeError):
    """A revert or rollback expects values that current state no longer has."""

    def __init__(
        self,
        problem: str,
        *,
        resource: str | None = None,
        input: str | None = None,
        expected: object = None,
        current: object = None,
    ) -> None:
        self.resource = resource
        self.input = input
        self.expected = expected
        self.current = current
        super().__init__(problem)


class StateError(RetrogradeError):
    """The operation is not allowed in the store's current state."""


class HandlerError(RetrogradeError):
    """A handler is misconfigured: unknown handler kind or unusable target."""


class MigrationStepError(StackError):
    """A type's migration step is malformed, or failed on a resource's inputs."""

    def __init__(
        self,
        type_name: str,
        from_version: int,
        to_version: int,
        problem: str,
        *,
        resource: str | None = None,
    ) -> None:
        self.type_name = type_name
        self.from_version = from_version
        self.to_version = to_version
        self.resource = resource
        target = f" for resource {resource!r}" if resource else ""
        super().__init__(
            f"migration of type {type_name!r} from version {from_version} to {to_version}"
            f"{target}: {problem}"
        )


class StoreLockedError(StateError):
    """Another live process holds the store lock; the message names it."""

    def __init__(self, activity: str, *, principal: str, host: str, pid: int, since: str) -> None:
        self.activity = activity
        self.principal = principal
        self.host = host
        self.pid = pid
        self.since = since
        super().__init__(
            f"the store is locked by {activity} of {principal} on {host} (pid {pid}) "
            f"since {since}; wait for it to finish, or run 'retrograde unlock --force' "
            "if that process is gone"
        )


class InterruptedApplyError(StateError):
    """An apply was interrupted; nothing else may change the store until it is resumed or
    discarded."""

    def __init__(self, apply_id: int, *, principal: str, started_at: str) -> None:
        self.apply_id = apply_id
        self.principal = principal
        self.started_at = started_at
        super().__init__(
            f"apply {apply_id} (by {principal}, started {started_at}) was interrupted; "
            "run 'retrograde resume' to continue it, or 'retrograde discard' to abandon it"
        )


class LockLostError(StateError):
    """A running apply found that it no longer holds the store lock, and stopped."""

    def __init__(self, apply_id: int | None) -> None:
        self.apply_id = apply_id
        what = f"apply {apply_id}" if apply_id is not None else "this operation"
        super().__init__(
            f"{what} stopped: it no longer holds the store lock (its lease expired and "
            "another process took over, or someone ran 'retrograde unlock --force')"
        )


class MigrationPathError(StateError):
    """A resource's type changed version and the type declares no migration path."""

    def __init__(
        self, apply_id: int, resource: str, type_name: str, from_version: int, to_version: int
    ) -> None:
        self.apply_id = apply_id
        self.resource = resource
        self.type_name = type_name
        self.from_version = from_version
        self.to_version = to_version
        super().__init__(
            f"cannot resume apply {apply_id}: resource {resource!r} of type {type_name!r} "
            f"was planned at version {from_version} and is at version {to_version} now, "
            f"and the type declares no migration from version {from_version} to {to_version}"
        )


class PlanChangedError(StateError):
    """What is staged now is not the plan that was confirmed; nothing ran."""

    def __init__(self, resources: Sequence[str]) -> None:
        self.resources = tuple(resources)
        shown = ", ".join(self.resources[:10])
        more = f" and {len(self.resources) - 10} more" if len(self.resources) > 10 else ""
        what = f": {shown}{more} changed" if self.resources else ": the order of actions changed"
        super().__init__(
            f"refusing to apply: the staged log is no longer the confirmed plan{what}; "
            "nothing was run (review the plan again)"
        )


def _names(resources: Sequence[str], limit: int = 10) -> str:
    """The first ``limit`` names, then how many more."""
    shown = ", ".join(resources[:limit])
    return shown + (f" and {len(resources) - limit} more" if len(resources) > limit else "")


class StalePlanError(StateError):
    """A saved plan no longer matches the store: nothing ran.

    ``resources`` are those whose staged changes differ from the ones the plan
    was made from (staged, changed or gone since); ``head`` and ``head_now``
    are the committed heads, ``(revision, hash)``, then and now.
    """

    def __init__(
        self,
        path: str,
        resources: Sequence[str],
        *,
        head: tuple[int, str],
        head_now: tuple[int, str],
    ) -> None:
        self.path = path
        self.resources = tuple(resources)
        self.head = head
        self.head_now = head_now
        what = []
        if head[0] != head_now[0]:
            what.append(f"the committed head moved from revision {head[0]} to {head_now[0]}")
        elif head != head_now:
            what.append(f"revision {head[0]} is not the commit the plan was made from")
        if self.resources:
            what.append(f"the staged changes of {_names(self.resources)} differ")
        if not what:
            what.append("the order of actions differs")
        super().__init__(
            f"refusing to apply plan file {one_line(repr(path))}: the staged log or committed "
            f"head changed since it was made ({'; '.join(what)}); nothing was run "
            "(make a new plan)"
        )


class PlanFileError(RetrogradeError):
    """A file given as a saved plan cannot be used: ``problem`` says why; nothing ran."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"plan file {one_line(repr(path))}: {problem}")


class ExcludedNeededError(RetrogradeError):
    """``--exclude`` names a resource that a selected one needs; never re-added in silence."""

    def __init__(self, excluded: str, *, needed_by: str) -> None:
        self.excluded = excluded
        self.needed_by = needed_by
        super().__init__(
            f"cannot exclude {one_line(repr(excluded))}: the selected "
            f"{one_line(repr(needed_by))} needs its action first"
        )


class ExecutorError(RetrogradeError):
    """An executor cannot run actions: a service it needs (broker, result backend) is down."""

    def __init__(self, executor: str, service: str, url: str, reason: str) -> None:
        self.executor = executor
        self.service = service
        self.url = url
        self.reason = reason
        super().__init__(f"{executor} executor: cannot reach the {service} at {url}: {reason}")


class PlanDigestError(PlanChangedError):
    """The staged log's plan digest is not the one a client confirmed; nothing ran."""

    def __init__(self, expected: str, found: str) -> None:
        self.expected = expected
        self.found = found
        RetrogradeError.__init__(
            self,
            f"refusing to apply: the staged plan's digest is {found}, not the confirmed "
            f"{one_line(expected)[:80]}; the staged log moved, nothing was run (review the plan)",
        )
        self.resources = ()


class TokenRefusedError(RetrogradeError):
    """An API token is unknown, revoked or expired; the message never echoes the token."""


class InsecureListenError(RetrogradeError):
    """``serve`` asked to listen beyond loopback without TLS (and without ``--insecure``)."""

    exit_code = 2


class KeyFileError(RetrogradeError):
    """A signing key, public key or witness file cannot be used: ``problem`` says why.

    Never shows what the file holds (it could be a private key).
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{one_line(path)}: {problem}")
