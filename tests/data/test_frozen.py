"""The builders of the frozen records: same signature, same objects, still frozen, picklable."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from tokenbudget import CallRecord, Usage
from tokenbudget._data import SharedDefault, frozen_builder, make_record, make_usage


def _generated(cls: type) -> type:
    """The same class with the ``__init__`` dataclasses would generate."""
    return dataclass(frozen=True, slots=True)(
        type(cls.__name__, (), {"__annotations__": dict(cls.__annotations__), **_defaults(cls)})
    )


def _defaults(cls: type) -> dict[str, object]:
    out: dict[str, object] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = field(default_factory=f.default_factory)
    return out


@pytest.mark.parametrize("cls", [Usage, CallRecord])
def test_the_signature_is_the_dataclass_one(cls: type) -> None:
    ours = inspect.signature(cls)
    theirs = inspect.signature(_generated(cls))
    assert list(ours.parameters) == list(theirs.parameters)
    for name, param in ours.parameters.items():
        other = theirs.parameters[name]
        assert param.kind == other.kind
        assert (param.default is inspect.Parameter.empty) == (
            other.default is inspect.Parameter.empty
        )
        if repr(other.default) != "<factory>":
            assert param.default == other.default


def test_instances_equal_the_generated_ones_and_stay_frozen() -> None:
    now = datetime(2026, 11, 29, tzinfo=timezone.utc)
    usage = Usage(input_tokens=3, output_tokens=4, extra={"web_search_requests": 1})
    record = CallRecord(now, "openai", "gpt-4o", "chat", usage, Decimal("0.1"), cached=True)
    assert usage.total_tokens == 7 and usage.extra == {"web_search_requests": 1}
    assert record.tags == {} and record.cached and record.request_model is None
    assert Usage().extra == {} and Usage() == Usage(0, 0)
    assert CallRecord(now, "p", "m", "chat", usage, None).tags == {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        usage.input_tokens = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.model = "other"  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing 5 required positional arguments"):
        CallRecord(now)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword"):
        Usage(tokens=1)  # type: ignore[call-arg]
    assert dataclasses.replace(usage, estimated=True).estimated


def test_classes_it_cannot_build_are_refused() -> None:
    @dataclass(frozen=True, slots=True)
    class WithPostInit:
        x: int = 0

        def __post_init__(self) -> None:
            pass

    with pytest.raises(TypeError, match="plain fields only"):
        frozen_builder(WithPostInit)


def test_a_shared_default_is_one_object() -> None:
    assert Usage().extra is Usage().extra
    assert Usage().extra == {}
    now = datetime(2026, 11, 29, tzinfo=timezone.utc)
    first = CallRecord(now, "p", "m", "chat", Usage(), None)
    assert first.tags is CallRecord(now, "p", "m", "chat", Usage(), None).tags
    assert dataclasses.fields(Usage)[10].default_factory() is Usage().extra  # type: ignore[misc]


@pytest.mark.parametrize(("cls", "build"), [(Usage, make_usage), (CallRecord, make_record)])
def test_a_builder_takes_the_class_signature(cls: type, build: object) -> None:
    ours = inspect.signature(build).parameters.values()  # type: ignore[arg-type]
    factories = {f.name: f.default_factory for f in dataclasses.fields(cls)}

    def default(param: inspect.Parameter) -> object:
        # The class shows a field's factory as "<factory>"; the builder shows its shared value.
        if repr(param.default) == "<factory>" and isinstance(factories[param.name], SharedDefault):
            return factories[param.name]()  # type: ignore[misc]
        return param.default

    theirs = inspect.signature(cls).parameters.values()
    assert [(p.name, p.kind, default(p)) for p in ours] == [
        (p.name, p.kind, default(p)) for p in theirs
    ]


def test_a_builder_builds_equal_frozen_instances_of_the_class_itself() -> None:
    now = datetime(2026, 11, 29, tzinfo=timezone.utc)
    usage = make_usage(input_tokens=3, output_tokens=4, extra={"web_search_requests": 1})
    assert type(usage) is Usage
    assert usage == Usage(input_tokens=3, output_tokens=4, extra={"web_search_requests": 1})
    record = make_record(now, "openai", "gpt-4o", "chat", usage, Decimal("0.1"), cached=True)
    assert type(record) is CallRecord
    assert record == CallRecord(now, "openai", "gpt-4o", "chat", usage, Decimal("0.1"), cached=True)
    assert (
        make_usage().extra is Usage().extra
        and make_record(now, "p", "m", "e", usage, None).tags == {}
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        usage.input_tokens = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.model = "other"  # type: ignore[misc]
    assert dataclasses.replace(record, model="x").model == "x"
    with pytest.raises(TypeError, match="missing 5 required positional arguments"):
        make_record(now)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword"):
        make_usage(tokens=1)  # type: ignore[call-arg]


def test_a_builder_runs_a_default_factory_per_instance() -> None:
    @dataclass(frozen=True, slots=True)
    class Bag:
        name: str
        items: list[int] = field(default_factory=list)

    build = frozen_builder(Bag)
    first, second = build("a"), build("b")
    assert first.items == [] and first.items is not second.items
    given = [1]
    assert build("c", given).items is given
    assert first == Bag("a") and type(first) is Bag


def test_records_pickle_and_copy_to_equal_records() -> None:
    now = datetime(2026, 11, 29, tzinfo=timezone.utc)
    usage = make_usage(input_tokens=3, output_tokens=4)  # its extra is the shared proxy
    record = make_record(now, "openai", "gpt-4o", "chat", usage, Decimal("0.1"))
    tagged = dataclasses.replace(record, tags={"feature": "search"}, raw_usage={"a": {"b": 1}})
    for original in (usage, record, tagged, Usage(extra={"web_search_requests": 2})):
        for copied in (pickle.loads(pickle.dumps(original)), copy.deepcopy(original)):
            assert copied == original and type(copied) is type(original)
    assert copy.copy(record) == record
    with pytest.raises(dataclasses.FrozenInstanceError):
        pickle.loads(pickle.dumps(record)).model = "x"  # type: ignore[misc]
