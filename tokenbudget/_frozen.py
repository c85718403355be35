"""A faster ``__init__`` for the frozen dataclasses built on every call.

A frozen dataclass's generated ``__init__`` sets each field through
``object.__setattr__`` (a global lookup, an attribute lookup and a call per
field), which makes a 19-field :class:`~tokenbudget.CallRecord` cost about
three times a mutable one. With ``slots=True`` each field is a member
descriptor whose ``__set__`` writes the slot directly and ignores the class's
``__setattr__``, so an ``__init__`` built from those setters keeps the class
frozen for everyone else and builds instances in about half the time.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Generic, TypeVar

__all__ = ["SharedDefault", "fast_frozen_init"]

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


def fast_frozen_init(cls: type[T]) -> type[T]:
    """Give the frozen slots dataclass ``cls`` an equivalent, faster ``__init__``.

    Same parameters, order, defaults and default factories as the generated one;
    the class must have no ``__post_init__``, ``InitVar`` or ``init=False`` fields.
    """
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or any(not f.init for f in fields):
        raise TypeError(f"{cls.__name__}: fast_frozen_init supports plain fields only")
    namespace: dict[str, Any] = {"_FACTORY": _FACTORY}
    signature, body = [], []
    for index, field in enumerate(fields):
        setter = f"_set{index}"
        namespace[setter] = cls.__dict__[field.name].__set__
        factory = field.default_factory
        if field.default is not dataclasses.MISSING or isinstance(factory, SharedDefault):
            shared = factory.value if isinstance(factory, SharedDefault) else field.default
            namespace[f"_default{index}"] = shared
            signature.append(f"{field.name}=_default{index}")
            body.append(f"    {setter}(self, {field.name})")
        elif factory is not dataclasses.MISSING:
            namespace[f"_factory{index}"] = factory
            signature.append(f"{field.name}=_FACTORY")
            body.append(
                f"    {setter}(self, _factory{index}() if {field.name} is _FACTORY "
                f"else {field.name})"
            )
        else:
            signature.append(field.name)
            body.append(f"    {setter}(self, {field.name})")
    source = f"def __init__(self, {', '.join(signature)}):\n" + "\n".join(body) + "\n"
    exec(source, namespace)  # the same technique dataclasses uses to build __init__
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = {**{f.name: f.type for f in fields}, "return": None}
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
