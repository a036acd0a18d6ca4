"""Resource types: versioned input schemas with a handler per action."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from retrograde.model.jsonvalue import JSON, Raw

TypeKey = tuple[str, int]
"""A resource type is identified by ``(name, version)``."""


class InputKind(StrEnum):
    """The declared type of an input (stack file ``type:``)."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    LIST = "list"
    OBJECT = "object"
    ANY = "any"

    def accepts(self, value: JSON) -> bool:
        """Whether ``value`` is of this kind (``None`` is accepted only by ``any``)."""
        match self:
            case InputKind.ANY:
                return True
            case InputKind.STRING:
                return isinstance(value, str)
            case InputKind.BOOLEAN:
                return isinstance(value, bool)
            case InputKind.INTEGER:
                return isinstance(value, int) and not isinstance(value, bool)
            case InputKind.NUMBER:
                return isinstance(value, int | float) and not isinstance(value, bool)
            case InputKind.LIST:
                return isinstance(value, list)
            case InputKind.OBJECT:
                return isinstance(value, dict)


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One declared input. ``has_default`` distinguishes ``default: null`` from no default."""

    name: str
    kind: InputKind = InputKind.ANY
    default: JSON = None
    has_default: bool = False
    secret: bool = False

    def to_json(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"type": self.kind.value}
        if self.has_default:
            out["default"] = self.default
        if self.secret:
            out["secret"] = True
        return out

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Raw]) -> InputSpec:
        return cls(
            name=name,
            kind=InputKind(data.get("type", "any")),
            default=data.get("default"),
            has_default="default" in data,
            secret=bool(data.get("secret", False)),
        )


QUEUE_TAG = "queue"
"""The tag a resource's ``queue:`` is kept as: it sends that resource's actions to that queue."""

COMMAND = "command"
"""The handler kind whose target is an argv list run without a shell."""


def encode_argv(argv: Sequence[str]) -> str:
    """A ``command`` target: the argv list as a compact JSON array."""
    return json.dumps(list(argv), ensure_ascii=False, separators=(",", ":"))


def decode_argv(target: str) -> list[str]:
    """The argv list of a ``command`` target written by :func:`encode_argv`."""
    argv = json.loads(target)
    if not isinstance(argv, list) or not all(isinstance(arg, str) for arg in argv):
        raise ValueError(f"a command target must be a JSON array of strings, got {target!r}")
    return argv


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """How one action of a type is performed.

    ``handler`` names the handler kind (``shell``, ``command``, ``python``,
    ``ansible``); ``target`` is what that kind runs (a command template, an
    argv list, ``module:function``, a playbook path). A ``command`` target is
    its argv encoded as a JSON array (see :func:`encode_argv`), so that every
    target travels as one string in action requests; ``to_json`` gives the
    list, as the stack file has it.
    """

    handler: str
    target: str
    timeout: float | None = None
    retries: int = 0
    retry_delay: float = 0.0
    queue_timeout: float | None = None
    """How long a request may wait on its queue to be taken by a worker (default: ``timeout``)."""

    def to_json(self) -> dict[str, JSON]:
        target: JSON = list(decode_argv(self.target)) if self.handler == COMMAND else self.target
        out: dict[str, JSON] = {self.handler: target}
        if self.timeout is not None:
            out["timeout"] = self.timeout
        if self.queue_timeout is not None:
            out["queue_timeout"] = self.queue_timeout
        if self.retries:
            out["retries"] = self.retries
        if self.retry_delay:
            out["retry_delay"] = self.retry_delay
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Raw]) -> ActionSpec:
        options = {"timeout", "retries", "retry_delay", "queue_timeout"}
        (handler,) = [k for k in data if k not in options]
        timeout = data.get("timeout")
        queue_timeout = data.get("queue_timeout")
        target = data[handler]
        return cls(
            handler=handler,
            target=encode_argv(target) if handler == COMMAND else str(target),
            timeout=float(timeout) if timeout is not None else None,
            retries=int(data.get("retries", 0)),
            retry_delay=float(data.get("retry_delay", 0.0)),
            queue_timeout=float(queue_timeout) if queue_timeout is not None else None,
        )


@dataclass(frozen=True, slots=True)
class ResourceType:
    """A named, versioned schema of inputs with the handlers for run/update/remove.

    ``base_dir`` is the directory shell commands run in (the stack file's).
    ``migrations`` keeps the stack file's migration steps as plain data.
    ``queue`` (the type's ``queue:``) and ``route_by`` (the stack's ``route_by:``)
    say where its actions run (see :meth:`queue_for`); ``files`` names the files,
    relative to ``base_dir``, that its handlers use besides those their targets name
    (the include file that defines the type among them), so that a worker can check
    that its copy is the same.
    """

    name: str
    version: int
    inputs: Mapping[str, InputSpec]
    actions: Mapping[str, ActionSpec]
    base_dir: str = "."
    migrations: tuple[Mapping[str, JSON], ...] = field(default=())
    queue: str | None = None
    route_by: str | None = None
    files: tuple[str, ...] = ()
    secrets: frozenset[str] = field(init=False, repr=False, compare=False)
    """The names of the inputs declared secret (computed once: every action request asks)."""

    def __post_init__(self) -> None:
        secret = frozenset(name for name, spec in self.inputs.items() if spec.secret)
        object.__setattr__(self, "secrets", secret)

    def queue_for(self, tags: Mapping[str, str]) -> str | None:
        """The queue of a resource of this type with ``tags``; None means the default queue.

        Most specific first: the resource's own ``queue`` tag (its ``queue:``),
        the type's ``queue:``, then the value of the stack's ``route_by`` tag.
        """
        own = tags.get(QUEUE_TAG)
        if own:
            return own
        if self.queue:
            return self.queue
        return tags.get(self.route_by) or None if self.route_by else None

    def to_json(self) -> dict[str, JSON]:
        return {
            "name": self.name,
            "version": self.version,
            "inputs": {n: s.to_json() for n, s in self.inputs.items()},
            "actions": {n: a.to_json() for n, a in self.actions.items()},
            "base_dir": self.base_dir,
            "migrations": [dict(m) for m in self.migrations],
            **self._routing_json(),
        }

    def _routing_json(self) -> dict[str, JSON]:
        """``queue``, ``route_by`` and ``files``, only when set (older stored types lack them)."""
        out: dict[str, JSON] = {}
        if self.queue:
            out["queue"] = self.queue
        if self.route_by:
            out["route_by"] = self.route_by
        if self.files:
            out["files"] = list(self.files)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Raw]) -> ResourceType:
        return cls(
            name=data["name"],
            version=int(data["version"]),
            inputs={n: InputSpec.from_json(n, s) for n, s in data["inputs"].items()},
            actions={n: ActionSpec.from_json(a) for n, a in data["actions"].items()},
            base_dir=data.get("base_dir", "."),
            migrations=tuple(data.get("migrations", ())),
            queue=data.get("queue"),
            route_by=data.get("route_by"),
            files=tuple(data.get("files", ())),
        )
