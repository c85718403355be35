"""``Run``: what the plugin keeps for one pytest session (one per process; xdist merges them).

Its life: :meth:`Run.start` when the plugin is loaded (track every client
built from then on, see ``_patch`` and ``_trackers``), :meth:`Run.configure`
once the options are known, :meth:`Run.begin_test` / :meth:`Run.end_test`
around each test, :meth:`Run.finish` at the end of the session,
:meth:`Run.stop` when pytest unconfigures.
"""

from __future__ import annotations

from typing import Any

from ._options import Mode, RunOptions
from ._patch import ClientPatch
from ._recording import Recording
from ._results import OUTSIDE_TESTS, TestCost, total
from ._trackers import PytestTracker, SessionTracker

__all__ = ["Run"]

#: The key of a worker's results in xdist's ``workeroutput``.
WORKER_KEY = "tokenbudget"


class Run:
    """The plugin's state for one session in one process."""

    def __init__(self) -> None:
        self.options = RunOptions()
        self.recording: Recording | None = None
        #: The tracker of the test running now, if any.
        self.current: PytestTracker | None = None
        self.session_tracker = SessionTracker(self)
        #: Every finished test's result (on an xdist controller: every worker's).
        self.results: list[TestCost] = []
        #: Calls made outside tests, per process.
        self.outside: list[TestCost] = []
        #: Things the summary should mention (lost workers, unrecorded calls outside tests).
        self.notes: list[str] = []
        self.worker: str | None = None
        #: Answers written to the recording by xdist workers.
        self.stored_by_workers = 0
        self._outcomes: dict[str, str] = {}
        self._patch = ClientPatch(self.session_tracker)

    # -- life ------------------------------------------------------------------------

    def start(self) -> None:
        """Track every client built from now on (idempotent)."""
        self._patch.install()

    def stop(self) -> None:
        """Stop tracking new clients."""
        self._patch.remove()

    def configure(self, options: RunOptions, worker: str | None) -> None:
        """Apply the command-line options (before any test runs).

        Raises ``ValueError`` for a host mapped to a provider that does not exist.
        """
        for host, provider in options.hosts:
            try:
                self.session_tracker.register_host(host, provider)
            except ValueError as exc:
                raise ValueError(f"--tokenbudget-host {host}={provider}: {exc}") from None
        self.options = options
        self.worker = worker
        directory = options.recording_dir
        if directory is not None:
            self.recording = Recording(
                directory,
                "record" if options.record_dir is not None else "replay",
                ignore_fields=options.ignore_fields,
            )
            self.session_tracker._cache = self.recording

    @property
    def mode(self) -> Mode:
        """``live``, ``record`` or ``replay``."""
        return self.options.mode

    # -- tests -------------------------------------------------------------------------

    def begin_test(self, nodeid: str) -> PytestTracker:
        """A fresh tracker for the test ``nodeid``, which gets every call from now on."""
        tracker = PytestTracker(self, nodeid)
        self.current = tracker
        return tracker

    def note_outcome(self, nodeid: str, when: str, outcome: str) -> None:
        """Remember how a phase of a test ended (from its reports)."""
        if outcome == "failed":
            self._outcomes[nodeid] = "failed" if when == "call" else "error"
        elif when == "call" or (when == "setup" and outcome != "passed"):
            self._outcomes[nodeid] = outcome  # passed, skipped, xfailed, xpassed

    def end_test(self, tracker: PytestTracker) -> TestCost:
        """Stop giving calls to ``tracker``'s test and keep its result."""
        if self.current is tracker:
            self.current = None
        outcome = self._outcomes.pop(tracker.nodeid, "")
        result = TestCost.of_test(tracker, outcome, self.worker)
        self.results.append(result)
        return result

    # -- the end -----------------------------------------------------------------------

    def finish(self) -> None:
        """Keep the calls made outside tests in this process."""
        tracker = self.session_tracker
        if tracker.usage.calls:
            replaying = self.mode == "replay"
            name = OUTSIDE_TESTS if self.worker is None else f"{OUTSIDE_TESTS} [{self.worker}]"
            self.outside.append(TestCost.of_tracker(tracker, name, replaying, self.worker))
        if tracker.unrecorded:
            self.notes.append(str(tracker.unrecorded[0]) + " (outside any test)")

    def worker_output(self) -> dict[str, Any]:
        """This worker's results, for the xdist controller."""
        return {
            "tests": [result.to_dict() for result in self.results],
            "outside": [result.to_dict() for result in self.outside],
            "notes": list(self.notes),
            "stored": self.recording.stored if self.recording is not None else 0,
        }

    def merge_worker(self, name: str, output: dict[str, Any] | None) -> None:
        """Add a worker's results (``None``: the worker died before sending them)."""
        if output is None:
            self.notes.append(f"worker {name} sent no tokenbudget results (did it crash?)")
            return
        self.results.extend(TestCost.from_dict(item) for item in output.get("tests", []))
        self.outside.extend(TestCost.from_dict(item) for item in output.get("outside", []))
        self.notes.extend(note for note in output.get("notes", []) if note not in self.notes)
        self.stored_by_workers += int(output.get("stored", 0))

    @property
    def stored(self) -> int:
        """Answers written to the recording by this process and its workers."""
        own = self.recording.stored if self.recording is not None else 0
        return own + self.stored_by_workers

    def total(self) -> TestCost:
        """Every call of the run: tests and outside, all workers."""
        return total([*self.results, *self.outside])

    def over_limit(self) -> bool:
        """True when the whole run cost more than ``--tokenbudget-max-cost``."""
        limit = self.options.max_cost_usd
        return limit is not None and self.total().cost_usd > limit
