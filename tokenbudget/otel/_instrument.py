"""``instrument()``: a tracker's calls, exported through the OpenTelemetry providers."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Sequence
from types import TracebackType

from opentelemetry import metrics as otel_metrics
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from .._core import warn_once
from .._data import CallRecord
from .._tracker import TokenTracker, get_tracker
from ..budgets import Budget
from ._conventions import latest_only
from ._metrics import CallMetrics
from ._spans import SpanMode, SpanWriter

__all__ = ["Instrumentation", "instrument"]

# The active instrumentation of each tracker (a second one would count every call twice),
# held weakly both ways: the instrumentation refers to its tracker.
_active: weakref.WeakKeyDictionary[TokenTracker, weakref.ref[Instrumentation]] = (
    weakref.WeakKeyDictionary()
)
_active_lock = threading.Lock()


class Instrumentation:
    """One tracker exported to OpenTelemetry; :meth:`uninstrument` stops it.

    Also a context manager: ``with tokenbudget.otel.instrument(...):``.
    """

    def __init__(
        self,
        tracker: TokenTracker,
        call_metrics: CallMetrics | None,
        spans: SpanWriter | None,
        budgets: Sequence[Budget],
    ) -> None:
        self.tracker = tracker
        self._metrics = call_metrics
        self._spans = spans
        self._budgets = tuple(budgets)
        self._active = True
        tracker.on_record(self._export)

    @property
    def active(self) -> bool:
        """False once :meth:`uninstrument` ran."""
        return self._active

    def watched_budgets(self) -> list[Budget]:
        """What the gauges report: the tracker's budgets, then those given (none once stopped)."""
        if not self._active:
            return []
        found = list(self.tracker.budgets)
        found.extend(budget for budget in self._budgets if budget not in found)
        return found

    def uninstrument(self) -> None:
        """Stop exporting this tracker's calls (idempotent); the gauges go quiet."""
        with _active_lock:
            if not self._active:
                return
            self._active = False
            found = _active.get(self.tracker)
            if found is not None and found() is self:
                del _active[self.tracker]
        self.tracker.remove_on_record(self._export)

    def _export(self, record: CallRecord) -> None:
        # A broken exporter must never break (or flood the log of) the caller's call.
        try:
            if self._metrics is not None:
                self._metrics.record(record)
            if self._spans is not None:
                self._spans.record(record)
        except Exception:
            warn_once(
                "otel-export",
                "tokenbudget: exporting a call to OpenTelemetry failed; later failures are "
                "not logged",
                exc_info=True,
            )

    def __enter__(self) -> Instrumentation:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.uninstrument()

    def __repr__(self) -> str:
        state = "active" if self._active else "stopped"
        return f"<Instrumentation of {self.tracker!r} ({state})>"


def instrument(
    tracker: TokenTracker | None = None,
    meter_provider: MeterProvider | None = None,
    tracer_provider: TracerProvider | None = None,
    *,
    spans: SpanMode | None = "current",
    metrics: bool = True,
    tags: Iterable[str] = (),
    budgets: Sequence[Budget] = (),
) -> Instrumentation:
    """Export every call of ``tracker`` as GenAI metrics and span attributes.

    Args:
        tracker: the tracker to watch; ``None`` is the process-wide default
            tracker (``tokenbudget.get_tracker()``, the one ``patch_all()`` uses).
        meter_provider: where the metrics go; ``None`` is the global provider.
        tracer_provider: where client spans go; ``None`` is the global provider.
        spans: ``"current"`` puts each call's attributes on the span current
            when the call is recorded (the last call wins on a span that makes
            several); ``"client"`` starts a ``CLIENT`` span per call, a child of
            that span; ``None`` writes no span attributes.
        metrics: ``False`` exports span attributes only.
        tags: names of ``tokenbudget.tag(...)`` labels to add to metrics and
            spans as ``tokenbudget.tag.<name>`` (opt-in: each one multiplies the
            series).
        budgets: budgets the gauges report besides ``tracker.budgets``.

    ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`` (read here,
    once) drops the older names (``gen_ai.system``, ...).

    Raises ``RuntimeError`` when ``tracker`` is already instrumented (its calls
    would count twice): ``uninstrument()`` that one first.
    """
    tracker = get_tracker() if tracker is None else tracker
    with _active_lock:
        if tracker in _active:
            raise RuntimeError(
                f"{tracker!r} is already instrumented; call uninstrument() on that first"
            )
    legacy = not latest_only()
    names = tuple(tags)
    call_metrics = None
    if metrics:
        if meter_provider is None:
            meter_provider = otel_metrics.get_meter_provider()
        # The gauges run only when a reader collects, after ``handle`` exists.
        call_metrics = CallMetrics(meter_provider, lambda: handle.watched_budgets(), names, legacy)
    writer = SpanWriter(spans, tracer_provider, names, legacy) if spans is not None else None
    with _active_lock:
        if tracker in _active:  # instrumented by another thread meanwhile
            raise RuntimeError(f"{tracker!r} is already instrumented")
        handle = Instrumentation(tracker, call_metrics, writer, budgets)
        _active[tracker] = weakref.ref(handle)
    return handle
