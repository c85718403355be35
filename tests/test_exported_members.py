"""The public API is what the ``__all__`` lists say, and nothing slips in or out unnoticed."""

from __future__ import annotations

import importlib
import inspect
import types

import pytest

import tokenbudget

TOP_LEVEL = [
    "Budget",
    "BudgetExceeded",
    "BudgetWarning",
    "CacheStats",
    "CallRecord",
    "FamilyConflict",
    "ModelPrice",
    "PriceBook",
    "PriceDataError",
    "RepriceResult",
    "StoreError",
    "TokenBudgetError",
    "TokenLimitReached",
    "TokenTracker",
    "UnknownModelError",
    "Usage",
    "UsageSummary",
    "__version__",
    "budget",
    "budget_refusal",
    "calculate_cost",
    "context_executor",
    "current_budget",
    "current_tags",
    "export_csv",
    "export_html",
    "export_json",
    "generate_table_report",
    "get_price",
    "get_tracker",
    "in_context",
    "is_patched",
    "list_models",
    "no_cache",
    "patch_all",
    "patched",
    "refresh_cache",
    "register_model",
    "tag",
    "unpatch_all",
]

PUBLIC_PACKAGES = [
    "tokenbudget.budgets",
    "tokenbudget.cache",
    "tokenbudget.cli",
    "tokenbudget.otel",
    "tokenbudget.pricing",
    "tokenbudget.providers",
    "tokenbudget.pytest_plugin",
    "tokenbudget.redis",
    "tokenbudget.reports",
    "tokenbudget.store",
    "tokenbudget.testing",
]


def test_the_top_level_api_is_pinned() -> None:
    assert sorted(tokenbudget.__all__) == sorted(TOP_LEVEL)


@pytest.mark.parametrize("name", ["tokenbudget", *PUBLIC_PACKAGES])
def test_every_public_looking_member_is_in_all(name: str) -> None:
    """Like httpx's test: a name without an underscore that is not in ``__all__`` is a leak."""
    package = importlib.import_module(name)
    members = {
        member
        for member, value in vars(package).items()
        if not member.startswith("_")
        and not isinstance(value, types.ModuleType)  # subpackages and modules imported
        and getattr(value, "__module__", "tokenbudget").startswith("tokenbudget")
    }  # (names imported from elsewhere, like typing.Any, are not tokenbudget's API)
    assert sorted(members - set(package.__all__)) == []
    assert [name for name in package.__all__ if not hasattr(package, name)] == []


@pytest.mark.parametrize("name", [n for n in TOP_LEVEL if not n.startswith("__")])
def test_top_level_names_show_tokenbudget_as_their_module(name: str) -> None:
    member = getattr(tokenbudget, name)
    assert inspect.isclass(member) or callable(member)
    assert member.__module__ == "tokenbudget"


def test_the_exceptions_users_catch_are_at_the_top_level() -> None:
    caught = {
        name
        for name in TOP_LEVEL
        if inspect.isclass(getattr(tokenbudget, name))
        and issubclass(getattr(tokenbudget, name), Exception)
    }
    assert caught == {
        "BudgetExceeded",
        "FamilyConflict",
        "BudgetWarning",
        "PriceDataError",
        "StoreError",
        "TokenBudgetError",
        "TokenLimitReached",
        "UnknownModelError",
    }
