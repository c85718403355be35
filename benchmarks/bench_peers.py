"""tokenbudget next to other LLM trackers: the same openai client, the same mock transport.

    python benchmarks/bench_peers.py [--rounds 41] [--peers langfuse,logfire] [--quick]
                                     [--instructions] [--markdown]

Runs tokenbudget and each peer that is installed (``pip install -e ".[peers]"``, best in
a venv of its own: several peers patch the openai SDK globally): Langfuse, OpenLLMetry
(``opentelemetry-instrumentation-openai``, what ``traceloop-sdk`` installs), Logfire,
LiteLLM and OpenLIT. Each runs in a child process of this script, so no two patch the
SDK at once.

In each child the real openai SDK sends through an httpx2 mock transport (the bodies of
``bench_transport.py``: a chat completion, and a 1,000-chunk stream without
``stream_options``). Each round times a short batch of untracked calls and one of
tracked calls, alternating which goes first; the table shows the median of the per-round
ratios (tracked / untracked), its interquartile range and the median extra time per
call. A peer that patches SDK classes is switched off for the untracked batches by
putting back the attributes its set-up replaced (found by comparing the openai modules
before and after), so both sides run in one process on one client set-up.

Every peer exports nowhere: OpenTelemetry-based peers get an in-memory exporter, hosts
and keys point at a closed loopback port, and a guard in each child refuses any
connection or name lookup that is not loopback (the table says if a peer tried one).
The "records" columns come from reading what each peer recorded for one JSON call and
one plain stream (its spans, records or logging callback), not from its documentation.

``--instructions`` adds instruction ratios counted by valgrind (callgrind, no cache
simulation): each side runs in a child under valgrind with N and 2N calls, and the
difference over N is one call's count, so start-up and imports cancel out.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import pkgutil
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(ROOT.parent / "shared" / "tiktoken"))

# Where a peer wants a host: a loopback port nothing listens on (the discard port).
DEAD_HOST = "http://127.0.0.1:9"
MESSAGES = [{"role": "user", "content": "Hi"}]


@dataclass(frozen=True)
class Peer:
    """A tracker this benchmark can run: how to tell it is installed and its version."""

    name: str
    label: str
    module: str  # importable when the peer is installed
    dist: str  # the distribution whose version the table shows


PEERS: dict[str, Peer] = {
    peer.name: peer
    for peer in (
        Peer("tokenbudget", "tokenbudget", "tokenbudget", "tokenbudget"),
        Peer("langfuse", "Langfuse", "langfuse", "langfuse"),
        Peer(
            "openllmetry",
            "OpenLLMetry",
            "opentelemetry.instrumentation.openai",
            "opentelemetry-instrumentation-openai",
        ),
        Peer("logfire", "Logfire", "logfire", "logfire"),
        Peer("litellm", "LiteLLM", "litellm", "litellm"),
        Peer("openlit", "OpenLIT", "openlit", "openlit"),
    )
}


# ---------------------------------------------------------------- pure helpers


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line; ``--quick`` means few rounds and short batches."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41, help="timed rounds per case")
    parser.add_argument("--repeat", type=int, default=50, help="JSON calls per batch")
    parser.add_argument("--chunks", type=int, default=1000, help="chunks in the stream")
    parser.add_argument(
        "--peers",
        type=peer_list,
        default=list(PEERS),
        help="comma-separated subset of: " + ",".join(PEERS),
    )
    parser.add_argument("--quick", action="store_true", help="3 rounds of 5 calls (smoke run)")
    parser.add_argument("--instructions", action="store_true", help="add valgrind counts")
    parser.add_argument("--calls", type=int, default=100, help="calls per valgrind run")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--json", dest="json_out", help="also write the results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--count", nargs=3, help=argparse.SUPPRESS)  # side case calls
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.repeat, args.calls = 3, 5, 10
    if args.rounds < 2 or args.repeat < 1 or args.chunks < 1 or args.calls < 1:
        parser.error("--rounds must be at least 2; --repeat, --chunks and --calls at least 1")
    return args


def peer_list(text: str) -> list[str]:
    """``"langfuse, logfire"`` -> the names, in the benchmark's own order; unknown ones refused."""
    names = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = names - set(PEERS)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown peer(s): {', '.join(sorted(unknown))}; known: {', '.join(PEERS)}"
        )
    return [name for name in PEERS if name in names]


@dataclass(frozen=True)
class Stats:
    """The median of per-round ratios, its quartiles, and the median extra time per call."""

    ratio: float
    low: float
    high: float
    extra_s: float


def ratio_stats(plain: Sequence[float], tracked: Sequence[float]) -> Stats:
    """Per-round ratios tracked / plain (paired by round), their median and quartiles."""
    if len(plain) != len(tracked) or len(plain) < 2:
        raise ValueError("need at least two paired rounds")
    ratios = [b / a for a, b in zip(plain, tracked, strict=True)]
    low, _, high = statistics.quantiles(ratios, n=4, method="inclusive")
    extra = statistics.median(b - a for a, b in zip(plain, tracked, strict=True))
    return Stats(statistics.median(ratios), low, high, extra)


def format_extra(seconds: float) -> str:
    """``+90 µs``, ``+6.6 ms``, ``+2.14 s``: extra time per call, three significant figures."""
    sign = "+" if seconds >= 0 else "-"
    value = abs(seconds) * 1e6
    if value >= 999_500:
        return f"{sign}{value / 1e6:.3g} s"
    if value >= 999.5:
        return f"{sign}{value / 1000:.3g} ms"
    return f"{sign}{value:.3g} µs"


def format_cell(stats: Stats | None) -> str:
    """``1.125 (1.10-1.15, +90 µs)``; an em dash where nothing was measured."""
    if stats is None:
        return "—"
    return f"{stats.ratio:.3f} ({stats.low:.2f}-{stats.high:.2f}, {format_extra(stats.extra_s)})"


def format_records(facts: dict[str, bool] | None) -> str:
    """What one call left behind: ``tokens + cost``, ``tokens``, ``nothing``."""
    if not facts:
        return "—"
    found = [what for what in ("tokens", "cost") if facts.get(what)]
    return " + ".join(found) if found else "nothing"


HEADERS = (
    "tracker",
    "JSON time",
    "1,000-chunk stream time",
    "JSON instr.",
    "stream instr.",
    "records (JSON)",
    "records (plain stream)",
)


def table_rows(results: Iterable[dict[str, Any]]) -> list[list[str]]:
    """One row of cells per child result (as ``run_child`` prints it)."""
    rows = []
    for result in results:
        label = f"{result['label']} {result.get('version') or ''}".strip()
        if result.get("error"):
            rows.append([label, f"failed: {result['error']}", "", "", "", "", ""])
            continue
        instr = result.get("instructions") or {}
        cells = [
            label,
            format_cell(_stats(result.get("json"))),
            format_cell(_stats(result.get("stream"))),
            f"{instr['json']:.3f}" if "json" in instr else "—",
            f"{instr['stream']:.3f}" if "stream" in instr else "—",
            format_records(result.get("records", {}).get("json")),
            format_records(result.get("records", {}).get("stream")),
        ]
        if result.get("network"):
            cells[0] += " (tried the network: " + ", ".join(result["network"][:3]) + ")"
        rows.append(cells)
    return rows


def _stats(data: dict[str, float] | None) -> Stats | None:
    return Stats(**data) if data else None


def format_table(rows: Sequence[Sequence[str]], markdown: bool = False) -> str:
    """Aligned columns for a terminal, or a Markdown table."""
    if markdown:
        lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADERS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def installed(peer: Peer) -> bool:
    """True when the peer can be imported by this interpreter."""
    try:
        return importlib.util.find_spec(peer.module) is not None
    except ModuleNotFoundError:
        return False


def version_of(peer: Peer) -> str:
    """The installed version of the peer's distribution, or ``""``."""
    try:
        return importlib.metadata.version(peer.dist)
    except importlib.metadata.PackageNotFoundError:
        return ""


# ---------------------------------------------------------------- the child: one peer


def guard_network(attempts: list[str]) -> None:
    """Refuse every connection and name lookup that is not loopback, noting each attempt."""
    loopback_names = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}

    def is_loopback(host: object) -> bool:
        return isinstance(host, str) and (host in loopback_names or host.startswith("127."))

    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not is_loopback(host):
            attempts.append(str(host))
            raise socket.gaierror(socket.EAI_NONAME, "bench_peers: no network but loopback")
        return real_getaddrinfo(host, *args, **kwargs)

    def allowed(self: socket.socket, address: Any) -> bool:
        if self.family == socket.AF_UNIX or is_loopback(address[0]):
            return True
        attempts.append(str(address[0]))
        return False

    def connect(self: socket.socket, address: Any) -> None:
        if not allowed(self, address):
            raise ConnectionRefusedError("bench_peers: no network but loopback")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        return real_connect_ex(self, address) if allowed(self, address) else 111

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]


def mock_transport(chunks: int) -> Any:
    """An httpx2 mock transport answering chat calls as OpenAI does, bodies sent as streams."""
    import httpx2
    from bench_transport import stream_body  # this folder is on sys.path when run as a script

    chat = (ROOT / "fixtures" / "openai" / "chat.json").read_bytes()
    with_usage = [p + b"\n\n" for p in stream_body(chunks, True).split(b"\n\n") if p]
    without = [p + b"\n\n" for p in stream_body(chunks, False).split(b"\n\n") if p]

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        if body.get("stream"):
            asked = (body.get("stream_options") or {}).get("include_usage")
            return httpx2.Response(
                200,
                headers={"content-type": "text/event-stream"},
                content=iter(with_usage if asked else without),
            )
        return httpx2.Response(
            200, headers={"content-type": "application/json"}, content=iter([chat])
        )

    return httpx2.MockTransport(handler)


def openai_client(http_client: Any = None, chunks: int = 1000) -> Any:
    """An openai client over the mock transport (or over ``http_client``)."""
    import httpx2
    import openai

    return openai.OpenAI(
        api_key="sk-bench",
        max_retries=0,
        http_client=http_client or httpx2.Client(transport=mock_transport(chunks)),
    )


def json_call(client: Any) -> Callable[[], object]:
    return lambda: client.chat.completions.create(model="gpt-4o", messages=MESSAGES)


def stream_call(client: Any) -> Callable[[], object]:
    def run() -> object:
        return sum(
            1
            for _ in client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True
            )
        )

    return run


_ABSENT = object()


class Patches:
    """The attributes of the openai SDK a peer's set-up replaced, to switch them off and on."""

    def __init__(self) -> None:
        import openai

        # The SDK imports its modules lazily; a module first imported by the peer's set-up
        # would have no "before" to compare with.
        for module in pkgutil.walk_packages(openai.__path__, "openai.", onerror=lambda _: None):
            try:
                importlib.import_module(module.name)
            except Exception:  # optional extras (numpy, websockets...) not installed
                continue
        self.before = self._snapshot()
        self.owners = {key[0] for key in self.before}
        self.changed: list[tuple[Any, str, Any, Any]] = []

    @staticmethod
    def _snapshot() -> dict[tuple[int, str], tuple[Any, Any]]:
        seen: dict[tuple[int, str], tuple[Any, Any]] = {}
        for name, module in list(sys.modules.items()):
            if not (name == "openai" or name.startswith("openai.")) or module is None:
                continue
            owners: list[Any] = [module]
            owners += [
                value
                for value in vars(module).values()
                if isinstance(value, type) and value.__module__.startswith("openai")
            ]
            for owner in owners:
                for attr, value in list(vars(owner).items()):
                    seen[(id(owner), attr)] = (owner, value)
        return seen

    def record(self) -> None:
        """Call after the peer's set-up: note what it changed."""
        after = self._snapshot()
        for key, (owner, value) in after.items():
            if key[0] not in self.owners or key[1].startswith("__"):
                continue  # a module imported since: nothing of it was there to replace
            old = self.before.get(key, (owner, _ABSENT))
            if old[1] is not value:
                self.changed.append((owner, key[1], old[1], value))

    def off(self) -> None:
        for owner, attr, old, _ in self.changed:
            if old is _ABSENT:
                delattr(owner, attr)
            else:
                setattr(owner, attr, old)

    def on(self) -> None:
        for owner, attr, _, new in self.changed:
            setattr(owner, attr, new)


def span_facts(spans: Iterable[Any]) -> dict[str, Any]:
    """Whether any span carries token counts or a cost (positive numbers), and under which keys."""
    facts: dict[str, Any] = {"tokens": False, "cost": False, "keys": []}

    def positive(value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if isinstance(value, (int, float)):
            return value > 0
        if isinstance(value, str) and value[:1] in "{[":
            try:
                return positive(json.loads(value))
            except ValueError:
                return False
        if isinstance(value, dict):
            return any(positive(v) for v in value.values())
        if isinstance(value, (list, tuple)):
            return any(positive(v) for v in value)
        return False

    for span in spans:
        for key, value in (span.attributes or {}).items():
            lowered = key.lower()
            if "request" in lowered or "max_tokens" in lowered:
                continue  # what was asked for, not what was used
            if ("token" in lowered or "usage" in lowered) and positive(value):
                facts["tokens"] = True
                facts["keys"].append(key)
            elif "cost" in lowered and positive(value):
                facts["cost"] = True
                facts["keys"].append(key)
    facts["keys"] = sorted(set(facts["keys"]))
    return facts


@dataclass
class Setup:
    """One peer, ready: the tracked calls, its on/off switch, and how to read what it recorded."""

    tracked_json: Callable[[], object]
    tracked_stream: Callable[[], object]
    recorded: Callable[[], dict[str, Any]]  # facts about what the last call left
    clear: Callable[[], None] = lambda: None
    patches: Patches | None = None
    notes: list[str] = field(default_factory=list)


def memory_spans() -> tuple[Any, Any]:
    """An in-memory span exporter and a simple processor feeding it."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    return exporter, SimpleSpanProcessor(exporter)


def span_setup(
    client: Any, exporter: Any, patches: Patches, notes: list[str] | None = None
) -> Setup:
    """A peer that records OpenTelemetry spans: read from ``exporter``, cleared after each call."""
    return Setup(
        json_call(client),
        stream_call(client),
        lambda: span_facts(exporter.get_finished_spans()),
        exporter.clear,
        patches,
        notes if notes is not None else [],
    )


def setup_tokenbudget(chunks: int) -> Setup:
    from tokenbudget import TokenTracker

    tracker = TokenTracker()
    client = openai_client(tracker.httpx_client(transport=mock_transport(chunks)))

    def recorded() -> dict[str, Any]:
        records = list(tracker.records)
        if not records:
            return {"tokens": False, "cost": False}
        last = records[-1]
        return {
            "tokens": last.usage.input_tokens + last.usage.output_tokens > 0,
            "cost": bool(last.cost_usd),
            "estimated": last.usage.estimated,
        }

    return Setup(json_call(client), stream_call(client), recorded, tracker.reset)


def setup_langfuse(chunks: int) -> Setup:
    os.environ.update(
        LANGFUSE_PUBLIC_KEY="pk-lf-bench",
        LANGFUSE_SECRET_KEY="sk-lf-bench",
        LANGFUSE_HOST=DEAD_HOST,
    )
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    patches = Patches()
    from langfuse import Langfuse

    exporter = InMemorySpanExporter()
    langfuse = Langfuse(span_exporter=exporter, base_url=DEAD_HOST)
    from langfuse.openai import openai  # noqa: F401  (patches the SDK's classes)

    patches.record()
    client = openai_client(chunks=chunks)

    def recorded() -> dict[str, Any]:
        langfuse.flush()
        return span_facts(exporter.get_finished_spans())

    def clear() -> None:
        langfuse.flush()
        exporter.clear()

    return Setup(json_call(client), stream_call(client), recorded, clear, patches)


def setup_openllmetry(chunks: int) -> Setup:
    os.environ["TRACELOOP_TELEMETRY"] = "false"
    exporter, _ = memory_spans()
    patches = Patches()
    notes = []
    try:
        from traceloop.sdk import Traceloop
        from traceloop.sdk.instruments import Instruments

        Traceloop.init(
            app_name="bench",
            api_endpoint=DEAD_HOST,
            exporter=exporter,
            disable_batch=True,
            telemetry_enabled=False,
            instruments={Instruments.OPENAI},
        )
        notes.append("traceloop-sdk Traceloop.init, OpenAI instrument only")
    except ImportError:
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor
        from opentelemetry.sdk.trace import TracerProvider

        provider = TracerProvider()
        provider.add_span_processor(memory_spans()[1])
        OpenAIInstrumentor().instrument(tracer_provider=provider)
        notes.append("OpenAIInstrumentor alone (traceloop-sdk not installed)")
    patches.record()
    client = openai_client(chunks=chunks)
    return span_setup(client, exporter, patches, notes)


def setup_logfire(chunks: int) -> Setup:
    import logfire

    exporter, processor = memory_spans()
    patches = Patches()
    logfire.configure(
        send_to_logfire=False,
        console=False,
        metrics=False,
        additional_span_processors=[processor],
        service_name="bench",
    )
    client = openai_client(chunks=chunks)
    logfire.instrument_openai(client)  # this client only
    patches.record()
    return span_setup(client, exporter, patches)


def setup_litellm(chunks: int) -> Setup:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no fetch of the price map
    import litellm

    litellm.telemetry = False
    seen: list[dict[str, Any]] = []

    def logged(kwargs: Any, response: Any, start: Any, end: Any) -> None:
        if type(response).__name__ == "ModelResponseStream":
            return  # called per chunk too; the whole call's record comes at the end
        payload = kwargs.get("standard_logging_object") or {}
        seen.append(
            {
                "tokens": (payload.get("total_tokens") or 0) > 0,
                "cost": (kwargs.get("response_cost") or 0) > 0,
            }
        )

    litellm.success_callback = [logged]
    client = openai_client(chunks=chunks)

    def tracked_json() -> object:
        return litellm.completion(model="gpt-4o", messages=MESSAGES, client=client, api_key="sk")

    def tracked_stream() -> object:
        stream = litellm.completion(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, client=client, api_key="sk"
        )
        return sum(1 for _ in stream)

    def recorded() -> dict[str, Any]:
        deadline = time.monotonic() + 5  # LiteLLM logs success on a worker thread
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        return seen[-1] if seen else {"tokens": False, "cost": False}

    def clear() -> None:
        time.sleep(0.05)  # let queued logging land before the next batch
        seen.clear()

    return Setup(tracked_json, tracked_stream, recorded, clear)


def setup_openlit(chunks: int) -> Setup:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    exporter, processor = memory_spans()
    provider = TracerProvider()
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)  # openlit reuses a configured provider
    patches = Patches()
    import openlit

    openlit.init(
        otlp_endpoint=DEAD_HOST,
        disable_batch=True,
        disable_metrics=True,
        disable_events=True,
        disabled_instrumentors=None,
    )
    patches.record()
    client = openai_client(chunks=chunks)
    return span_setup(client, exporter, patches)


SETUPS: dict[str, Callable[[int], Setup]] = {
    "tokenbudget": setup_tokenbudget,
    "langfuse": setup_langfuse,
    "openllmetry": setup_openllmetry,
    "logfire": setup_logfire,
    "litellm": setup_litellm,
    "openlit": setup_openlit,
}


def time_batch(call: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - start) / repeat


def compare(
    setup: Setup,
    plain: Callable[[], object],
    tracked: Callable[[], object],
    repeat: int,
    rounds: int,
) -> Stats:
    """Interleaved rounds: a batch of plain calls (peer off) and one of tracked calls (on)."""
    patches = setup.patches

    def run_plain() -> float:
        if patches:
            patches.off()
        try:
            return time_batch(plain, repeat)
        finally:
            if patches:
                patches.on()

    def run_tracked() -> float:
        took = time_batch(tracked, repeat)
        setup.clear()
        return took

    run_plain(), run_tracked()  # warm both paths
    plain_times, tracked_times = [], []
    for index in range(rounds):
        if index % 2:
            b = run_tracked()
            a = run_plain()
        else:
            a = run_plain()
            b = run_tracked()
        plain_times.append(a)
        tracked_times.append(b)
    return ratio_stats(plain_times, tracked_times)


def run_child(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Set up one peer, time it against the untracked client, read what it records."""
    attempts: list[str] = []
    guard_network(attempts)
    peer = PEERS[name]
    result: dict[str, Any] = {"name": name, "label": peer.label, "version": version_of(peer)}
    setup = SETUPS[name](args.chunks)
    plain = openai_client(chunks=args.chunks)
    records = {}
    for case, tracked in (("json", setup.tracked_json), ("stream", setup.tracked_stream)):
        setup.clear()
        tracked()
        records[case] = setup.recorded()
    result["records"] = records
    if setup.patches:
        # The untracked side must leave nothing behind, or the comparison is not one.
        setup.patches.off()
        setup.clear()
        json_call(plain)(), stream_call(plain)()
        leaked = setup.recorded()
        setup.patches.on()
        if leaked.get("tokens") or leaked.get("cost"):
            raise RuntimeError(f"{name}: the untracked client is still tracked: {leaked}")
    result["json"] = vars(
        compare(setup, json_call(plain), setup.tracked_json, args.repeat, args.rounds)
    )
    result["stream"] = vars(
        compare(setup, stream_call(plain), setup.tracked_stream, 1, args.rounds)
    )
    result["patched"] = sorted(
        {f"{o.__name__}.{a}" for o, a, _, _ in (setup.patches.changed if setup.patches else [])}
    )
    result["notes"] = setup.notes
    result["network"] = sorted(set(attempts))
    import openai

    result["openai"] = openai.__version__
    return result


def run_count(name: str, side: str, case: str, calls: int, chunks: int) -> None:
    """The body of one valgrind run: ``calls`` calls of one side after a warm-up."""
    guard_network([])
    setup = SETUPS[name](chunks)
    if side == "plain":
        plain = openai_client(chunks=chunks)
        call = json_call(plain) if case == "json" else stream_call(plain)
        if setup.patches:
            setup.patches.off()
    else:
        call = setup.tracked_json if case == "json" else setup.tracked_stream
    for _ in range(20):  # every cache and lazy import warm
        call()
    setup.clear()
    for _ in range(calls):
        call()
    setup.clear()


# ---------------------------------------------------------------- the parent


def child_command(name: str, args: argparse.Namespace, *extra: str) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        name,
        "--rounds",
        str(args.rounds),
        "--repeat",
        str(args.repeat),
        "--chunks",
        str(args.chunks),
        *extra,
    ]


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": _pythonpath()}


def _pythonpath() -> str:
    parts = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    return os.pathsep.join(p for p in parts if p)


def measure(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one peer's child process and return its result (or the error it died of)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = out.name
    try:
        done = subprocess.run(
            child_command(name, args, "--json", path),
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=3600,
        )
        text = Path(path).read_text()
        if done.returncode or not text:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return {"name": name, "label": PEERS[name].label, "error": tail[0][:200]}
        return dict(json.loads(text))
    finally:
        os.unlink(path)


def instructions(name: str, args: argparse.Namespace) -> dict[str, float]:
    """Instruction ratios (tracked / plain per call) for the JSON call and the stream."""
    ratios = {}
    for case in ("json", "stream"):
        per_call = {}
        for side in ("plain", "tracked"):
            counts = [_count(name, side, case, n, args) for n in (args.calls, 2 * args.calls)]
            per_call[side] = (counts[1] - counts[0]) / args.calls
        ratios[case] = per_call["tracked"] / per_call["plain"]
    return ratios


def _count(name: str, side: str, case: str, calls: int, args: argparse.Namespace) -> int:
    with tempfile.NamedTemporaryFile(suffix=".cg", delete=False) as out:
        path = out.name
    try:
        cmd = [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            f"--cachegrind-out-file={path}",
            *child_command(name, args, "--count", side, case, str(calls)),
        ]
        subprocess.run(cmd, check=True, env=child_env(), capture_output=True, timeout=3600)
        text = Path(path).read_text()
    finally:
        os.unlink(path)
    match = re.search(r"^summary: (\d+)", text, re.M)
    if not match:
        raise RuntimeError("no summary line in cachegrind's output")
    return int(match.group(1))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        if args.count:
            side, case, calls = args.count
            run_count(args.child, side, case, int(calls), args.chunks)
            return 0
        result = run_child(args.child, args)
        Path(args.json_out).write_text(json.dumps(result))
        return 0

    chosen = [name for name in args.peers if installed(PEERS[name])]
    skipped = [name for name in args.peers if name not in chosen]
    if args.instructions and not shutil.which("valgrind"):
        print("valgrind not found: no instruction counts (apt-get install -y valgrind)")
        args.instructions = False
    results = []
    for name in chosen:
        print(f"running {name}...", file=sys.stderr, flush=True)
        result = measure(name, args)
        if args.instructions and not result.get("error"):
            result["instructions"] = instructions(name, args)
        results.append(result)

    print(format_table(table_rows(results), markdown=args.markdown))
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    openai_versions = sorted({r["openai"] for r in results if r.get("openai")})
    print(
        f"\n{args.rounds} rounds ({args.repeat} JSON calls or one {args.chunks:,}-chunk stream"
        f" per batch); ratio = tracked / untracked, median (IQR, median extra time per call)."
        f"\nopenai {', '.join(openai_versions)}, Python {platform.python_version()},"
        f" {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f},"
        f" {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    for result in results:
        details = []
        if result.get("patched"):
            details.append(f"patched {len(result['patched'])} openai attributes")
        details += result.get("notes", [])
        keys = {
            case: facts.get("keys")
            for case, facts in (result.get("records") or {}).items()
            if facts.get("keys")
        }
        if keys:
            details.append(
                "recorded under " + "; ".join(f"{c}: {', '.join(k)}" for c, k in keys.items())
            )
        if details:
            print(f"  {result['label']}: " + "; ".join(details))
    if skipped:
        print("not installed: " + ", ".join(skipped))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))
    return 1 if any(r.get("error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
