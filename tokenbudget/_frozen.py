"""Faster construction of the frozen dataclasses built on every call.

A frozen dataclass's generated ``__init__`` sets each field through
``object.__setattr__`` (a global lookup, an attribute lookup and a call per
field), which makes a 19-field :class:`~tokenbudget.CallRecord` cost about
three times a mutable one. With ``slots=True`` each field is a member
descriptor whose ``__set__`` writes the slot directly and ignores the class's
``__setattr__``, so an ``__init__`` built from those setters keeps the class
frozen for everyone else and builds instances in about half the time
(:func:`fast_frozen_init`). The hot paths go further with a builder function
(:func:`frozen_builder`): a third of the cost of the class call again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import MappingProxyType
from typing import Any, Generic, ParamSpec, TypeVar

__all__ = ["SharedDefault", "fast_frozen_init", "frozen_builder"]

P = ParamSpec("P")
T = TypeVar("T")
V = TypeVar("V")


class _Factory:
    """Default of a field with a default factory (shown as ``<factory>``, as dataclasses does)."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


class SharedDefault(Generic[V]):
    """A ``default_factory`` that returns one immutable object, every time.

    dataclasses refuse unhashable defaults (a ``MappingProxyType``) even when
    they cannot change; :func:`fast_frozen_init` uses the object itself as the
    parameter's default, so no factory runs per instance.
    """

    __slots__ = ("value",)

    def __init__(self, value: V) -> None:
        self.value = value

    def __call__(self) -> V:
        return self.value


def _parameters(cls: type, namespace: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Per field of ``cls``: its name, its dataclass ``__init__`` parameter, and the
    expression giving its value; the defaults and factories these name are put in
    ``namespace``."""
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__") or any(not f.init for f in fields):
        raise TypeError(f"{cls.__name__}: plain fields only (no __post_init__ or init=False)")
    namespace["_FACTORY"] = _FACTORY
    out = []
    for index, field in enumerate(fields):
        name, factory = field.name, field.default_factory
        if field.default is not dataclasses.MISSING or isinstance(factory, SharedDefault):
            shared = factory.value if isinstance(factory, SharedDefault) else field.default
            namespace[f"_default{index}"] = shared
            out.append((name, f"{name}=_default{index}", name))
        elif factory is not dataclasses.MISSING:
            namespace[f"_factory{index}"] = factory
            value = f"_factory{index}() if {name} is _FACTORY else {name}"
            out.append((name, f"{name}=_FACTORY", value))
        else:
            out.append((name, name, name))
    return out


def _compile(name: str, params: list[str], body: list[str], namespace: dict[str, Any]) -> Any:
    source = f"def {name}({', '.join(params)}):\n" + "\n".join(f"    {line}" for line in body)
    exec(source + "\n", namespace)  # the same technique dataclasses uses to build __init__
    return namespace[name]


def fast_frozen_init(cls: type[T]) -> type[T]:
    """Give the frozen slots dataclass ``cls`` an equivalent, faster ``__init__``.

    Same parameters, order, defaults and default factories as the generated one;
    the class must have no ``__post_init__``, ``InitVar`` or ``init=False`` fields.
    """
    namespace: dict[str, Any] = {}
    fields = _parameters(cls, namespace)
    body = []
    for index, (name, _, value) in enumerate(fields):
        namespace[f"_set{index}"] = cls.__dict__[name].__set__
        body.append(f"_set{index}(self, {value})")
    init = _compile("__init__", ["self", *(param for _, param, _ in fields)], body, namespace)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = {
        **{f.name: f.type for f in dataclasses.fields(cls)},  # type: ignore[arg-type]
        "return": None,
    }
    cls.__init__ = init  # type: ignore[method-assign]
    names = tuple(name for name, _, _ in fields)

    def __reduce__(self: Any) -> tuple[type, tuple[Any, ...]]:
        # Shared defaults are read-only mapping proxies, which pickle refuses: a
        # pickled instance carries a dict in their place (equal, and as read-only
        # in practice: the instance is frozen).
        values = (getattr(self, name) for name in names)
        return type(self), tuple(dict(v) if type(v) is MappingProxyType else v for v in values)

    __reduce__.__qualname__ = f"{cls.__qualname__}.__reduce__"
    cls.__reduce__ = __reduce__  # type: ignore[assignment, method-assign]
    return cls


def frozen_builder(cls: Callable[P, T]) -> Callable[P, T]:
    """A function taking what ``cls(...)`` takes and returning the same instance, faster.

    For the frozen slots dataclasses built on every call. Calling a class packs
    keyword arguments into a dict, and the frozen class can only set its slots
    through descriptor calls; the builder is a plain function, and it fills a
    twin class that has the same slots but an ordinary ``__setattr__`` (each
    field one slot store), then moves the instance to ``cls`` by ``__class__``
    assignment, which Python allows between classes of identical layout. The
    result is an ordinary, frozen instance of ``cls``.
    """
    if not isinstance(cls, type):
        raise TypeError("frozen_builder needs a dataclass")
    twin = type(f"_{cls.__name__}Twin", (), {"__slots__": cls.__slots__})  # type: ignore[attr-defined]
    namespace: dict[str, Any] = {"_new": object.__new__, "_Twin": twin, "_cls": cls}
    fields = _parameters(cls, namespace)
    body = ["self = _new(_Twin)", *(f"self.{name} = {value}" for name, _, value in fields)]
    body += ["self.__class__ = _cls", "return self"]
    params = [param for _, param, _ in fields]
    build: Callable[P, T] = _compile(f"make_{cls.__name__.lower()}", params, body, namespace)
    build.__module__ = cls.__module__
    build.__doc__ = f"Build a :class:`{cls.__name__}` (same arguments), without a class call."
    return build
