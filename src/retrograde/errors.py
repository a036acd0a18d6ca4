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
    │   └── CycleError              connections form a cycle (names every resource on it)
    ├── StoreError              the store cannot be opened, read or written
    │   └── CorruptLogError         a stored commit or state fails verification
    ├── NotFoundError           an unknown resource, revision, apply or checkpoint
    ├── ConflictError           a revert or rollback no longer matches current state
    ├── StateError              the operation is not allowed now (e.g. nothing staged)
    └── HandlerError            a handler is misconfigured (unknown kind, bad target)
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


class StackError(RetrogradeError):
    """The stack file cannot be used; ``location`` says where (``file:line:col``)."""

    def __init__(self, problem: str, *, location: str | None = None) -> None:
        self.problem = problem
        self.location = location
        super().__init__(f"{location}: {problem}" if location else problem)


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
    """A value does not match its input's declared type."""

    def __init__(
        self,
        resource: str,
        input: str,
        expected: str,
        value: object,
        *,
        location: str | None = None,
    ) -> None:
        self.resource = resource
        self.input = input
        self.expected = expected
        self.value = value
        super().__init__(
            f"input {resource}.{input} must be {expected}, got {type(value).__name__} {value!r}",
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


class NotFoundError(RetrogradeError):
    """An unknown resource, revision, apply or checkpoint was named."""

    def __init__(self, kind: str, name: object) -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"unknown {kind} {name!r}")


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
