"""A small price book with stated per-1M prices, for engine tests.

Every expected cost in the tests is computed by hand from the prices below, so
the tests never depend on the real database's figures.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from tokenbudget.pricing import PriceBook, PriceFile

M = Decimal(1_000_000)

ACME: dict[str, Any] = {
    "provider": "acme",
    "name": "Acme AI",
    "pricing_url": "https://acme.test/pricing",
    "batch_multiplier": "0.5",
    "models": [
        {
            # input 3, output 15, cached 0.3, 5m write 3.75, 1h write 6, search $0.01
            "id": "acme-pro",
            "aliases": ["acme-pro-2025-01-01"],
            "source": "https://acme.test/pricing",
            "checked": "2026-11-29",
            "prices": [
                {
                    "input": "3",
                    "output": "15",
                    "cached_input": "0.3",
                    "cache_write": "3.75",
                    "cache_write_1h": "6",
                    "extra": {"web_search_requests": "0.01"},
                    "batch": {
                        "input": "1.5",
                        "output": "7.5",
                        "cached_input": "0.15",
                        "cache_write": "1.875",
                        "cache_write_1h": "3",
                    },
                    "service_tiers": {
                        "flex": {"input": "1.5", "output": "7.5", "cached_input": "0.15"},
                        "priority": {"input": "6", "output": "30"},
                    },
                }
            ],
        },
        {
            # 1.25 / 10 / cached 0.125; above 200k prompt tokens: 2.5 / 15 / 0.25
            "id": "acme-long",
            "source": "https://acme.test/pricing",
            "checked": "2026-11-29",
            "prices": [
                {
                    "input": "1.25",
                    "output": "10",
                    "cached_input": "0.125",
                    "tiers": [
                        {"above": 200000, "input": "2.5", "output": "15", "cached_input": "0.25"}
                    ],
                }
            ],
        },
        {
            # 10 / 40 until 2025-06-10, then 2 / 8
            "id": "acme-dated",
            "source": "https://acme.test/pricing",
            "checked": "2026-11-29",
            "prices": [
                {"input": "10", "output": "40"},
                {"from": "2025-06-10", "input": "2", "output": "8"},
            ],
        },
        {
            # no explicit batch prices: the provider's 0.5 batch multiplier applies
            "id": "acme-mini",
            "source": "https://acme.test/pricing",
            "checked": "2026-11-29",
            "prices": [{"input": "0.4", "output": "1.6"}],
        },
        {
            "id": "acme-snap",
            "source": "x",
            "checked": "2026-11-29",
            "prices": [{"input": "2.5", "output": "10"}],
        },
        {
            "id": "acme-snap-2024-05-13",
            "source": "x",
            "checked": "2026-11-29",
            "prices": [{"input": "5", "output": "15"}],
        },
        {
            # off-peak 0.15 / 0.6, peak 01:00-04:00 UTC 0.3 / 1.2
            "id": "acme-peak",
            "source": "x",
            "checked": "2026-11-29",
            "prices": [
                {
                    "input": "0.15",
                    "output": "0.6",
                    "windows": [{"utc": "01:00-04:00", "input": "0.3", "output": "1.2"}],
                }
            ],
        },
        {
            "id": "acme-exp",
            "source": "x",
            "checked": "2026-11-29",
            "unpriced": "a free experiment, never sold",
        },
    ],
}

HOSTCO: dict[str, Any] = {
    "provider": "hostco",
    "name": "HostCo",
    "pricing_url": "https://hostco.test",
    "models": [
        # The same model name as at acme, at a different price.
        {
            "id": "acme-pro",
            "source": "x",
            "checked": "2026-11-29",
            "prices": [{"input": "1", "output": "2"}],
        },
    ],
}


def make_book() -> PriceBook:
    """A book with only the acme and hostco test providers."""
    files = [PriceFile.model_validate(ACME), PriceFile.model_validate(HOSTCO)]
    return PriceBook(files, builtin=False)


def write_override(path: Path, *providers: dict[str, Any]) -> Path:
    """Write a tokenbudget override file holding ``providers``."""
    path.write_text(json.dumps({"format": "tokenbudget-prices/1", "providers": list(providers)}))
    return path


def litellm_sample() -> dict[str, Any]:
    """A small LiteLLM price document (per-token prices, as LiteLLM writes them)."""
    return {
        "sample_spec": {"input_cost_per_token": 0.0, "litellm_provider": "one of ..."},
        "acme-litellm": {
            "litellm_provider": "openai",
            "mode": "chat",
            "max_input_tokens": 128000,
            "input_cost_per_token": 2.5e-06,
            "output_cost_per_token": 1e-05,
            "cache_read_input_token_cost": 1.25e-06,
            "input_cost_per_token_batches": 1.25e-06,
            "output_cost_per_token_batches": 5e-06,
            "input_cost_per_token_flex": 1.25e-06,
            "output_cost_per_token_flex": 5e-06,
        },
        "gemini/acme-gem": {
            "litellm_provider": "gemini",
            "mode": "chat",
            "input_cost_per_token": 1.25e-06,
            "output_cost_per_token": 1e-05,
            "input_cost_per_token_above_200k_tokens": 2.5e-06,
            "output_cost_per_token_above_200k_tokens": 1.5e-05,
        },
        "acme-embed": {
            "litellm_provider": "openai",
            "mode": "embedding",
            "input_cost_per_token": 2e-08,
        },
        "acme-image": {
            "litellm_provider": "openai",
            "mode": "image_generation",
            "output_cost_per_image": 0.04,
        },
    }
