"""Quickstart: track the tokens and cost of OpenAI calls, offline.

This runs without network access or an API key: the calls are answered by
``tokenbudget.testing.FakeLLM``, a fake provider that speaks OpenAI's exact wire
format and counts usage with the tokenizer. For the real API, build the client
with ``http_client=tracker.httpx_client()`` and your own key instead.

    pip install -e ".[all]"
    python examples/quickstart.py
"""

from __future__ import annotations

import openai

from tokenbudget import TokenTracker
from tokenbudget.testing import FakeLLM


def main() -> None:
    tracker = TokenTracker()
    fake = FakeLLM(
        replies=[
            "The Eiffel Tower is about 330 metres tall.",
            "Tokens in, tokens out,\nevery call is counted,\nthe budget holds.",
            "Cache, budget, report: three ways to spend less on LLM calls.",
        ]
    )
    client = openai.OpenAI(api_key="sk-fake", http_client=tracker.httpx_client(transport=fake))

    # 1. A chat completion.
    completion = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You answer in one sentence."},
            {"role": "user", "content": "How tall is the Eiffel Tower?"},
        ],
    )
    print("chat:     ", completion.choices[0].message.content)

    # 2. A streamed chat completion: tokenbudget asks for the usage and hides it.
    print("streamed: ", end="")
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Write a haiku about token budgets."}],
        stream=True,
    )
    for chunk in stream:
        print((chunk.choices[0].delta.content or "").replace("\n", " / "), end="", flush=True)
    print()

    # 3. The Responses API.
    response = client.responses.create(
        model="gpt-4.1-mini", input="Name three ways to spend less on LLM calls."
    )
    print("responses:", response.output_text)

    # 4. Embeddings.
    embeddings = client.embeddings.create(
        model="text-embedding-3-small", input=["token budgets", "LLM costs"]
    )
    print(f"embeddings: {len(embeddings.data)} vectors of {len(embeddings.data[0].embedding)}")

    print()
    print("total:    ", tracker.usage)
    for model, summary in tracker.usage_by_model.items():
        print(f"  {model:<24} {summary}")
    print()
    for record in tracker.records:
        cost = "unpriced" if record.cost_usd is None else f"${record.cost_usd:f}"
        print(
            f"  {record.endpoint:<11} {record.model or '?':<24} "
            f"in={record.input_tokens:<4} out={record.output_tokens:<4} {cost}"
        )


if __name__ == "__main__":
    main()
