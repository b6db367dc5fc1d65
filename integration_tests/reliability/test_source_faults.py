"""Guarantee 1: under injected faults a source sync either delivers every page exactly once or fails with an error
TRACE that names the cause. The source runs as `python main.py read` subprocesses against the stand-in."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from integration_tests.reliability.helpers import PageCount, Run, source_command, source_config
from testkit.confluence_stand_in import Faults, StandIn, synthetic_site
from testkit.confluence_stand_in.common import ApiResult, encode_cursor
from testkit.retry_log import retry_waits

# 3 spaces x ~60 pages at 20 per request: ~15 API requests, so every "every N" fault fires several times.
SITE = synthetic_site(n_pages=180, n_spaces=3, seed=11)
PAGE_SIZE = 20


@dataclass(frozen=True)
class FaultCase:
    name: str
    faults: Faults
    config: dict[str, Any] = field(default_factory=dict)
    cause_words: tuple[str, ...] = ()  # an error TRACE must name the cause with one of these (lower case)
    must_succeed: bool = False  # transient faults within the retry budget must not fail the sync


CASES = [
    FaultCase(
        "429-retry-after-1s",
        Faults(status_429_every=4, retry_after="1", seed=1),
        {"max_retry_seconds": 2, "min_retry_seconds": 0.05},
        ("429", "rate limit"),
        must_succeed=True,
    ),
    FaultCase(
        "429-absurd-retry-after",
        Faults(status_429_every=3, retry_after="9223372036854775807", seed=2),
        {"max_retry_seconds": 1, "min_retry_seconds": 0.05},
        ("429", "rate limit"),
        must_succeed=True,
    ),
    FaultCase(
        "5xx-bursts",
        Faults(status_5xx_every=10, status_5xx_burst=3, retry_after=None, seed=3),
        {},
        ("503", "server error"),
        must_succeed=True,
    ),
    FaultCase(
        "connection-resets", Faults(reset_every=4, seed=4), {}, ("connection", "reset", "aborted"), must_succeed=True
    ),
    FaultCase(
        "slower-than-timeout",
        Faults(slow_every=5, slow_seconds=4.0, seed=5),
        {"request_timeout_seconds": 1},
        ("timed out", "timeout"),
        must_succeed=True,
    ),
    FaultCase(
        "truncated-json",
        Faults(malformed_json_every=4, seed=6),
        {},
        ("json", "decode", "malformed", "truncated", "expecting", "unterminated"),
    ),
    FaultCase(
        "5xx-beyond-retry-budget",
        Faults(status_5xx_every=3, status_5xx_burst=1000, retry_after=None, seed=7),
        {"max_retries": 2},
        ("503", "server error", "max number of retries", "retries"),
    ),
]


def _read(server: StandIn, tmp_path: Path, **config: Any) -> Run:
    overrides = {"page_size": PAGE_SIZE, "num_workers": 2, **config}
    return source_command("read", tmp_path, source_config(server.url, **overrides))


def _assert_all_once_or_named_failure(
    run: Run, case_name: str, cause_words: tuple[str, ...], must_succeed: bool
) -> str:
    """Returns "succeeded" or "failed"; asserts the either/or guarantee of this test module."""
    count = PageCount.of(run.records(), SITE)
    traces = run.error_traces()
    succeeded = run.returncode == 0 and not traces and bool(run.states())
    if succeeded:
        assert not count.lost and not count.duplicated and not count.unexpected, (
            f"{case_name}: the sync reported success but {count}"
        )
        return "succeeded"
    assert not must_succeed, f"{case_name}: a transient fault within the retry budget failed the sync\n{run.tail()}"
    assert traces, f"{case_name}: the sync failed (exit {run.returncode}) without an error TRACE\n{run.tail()}"
    text = " ".join(f"{t.get('message', '')} {t.get('internal_message', '')}" for t in traces).lower()
    assert any(word in text for word in cause_words), (
        f"{case_name}: the error TRACE does not name the cause (expected one of {cause_words}): {traces[0]}"
    )
    assert run.returncode != 0, f"{case_name}: an error TRACE with exit code 0\n{run.tail()}"
    return "failed"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault_gives_every_page_once_or_a_named_failure(case: FaultCase, tmp_path: Path) -> None:
    with StandIn(SITE, faults=case.faults) as server:
        run = _read(server, tmp_path, **case.config)
        stats = server.stats.snapshot()
    injected = sum(
        int(stats.get(k, 0)) for k in ("status_429_sent", "status_5xx_sent", "resets", "slow_sent", "malformed_sent")
    )
    assert injected > 0, f"{case.name}: the stand-in injected no fault ({stats}); the test proves nothing"
    cap = float({**source_config(""), **case.config}["max_retry_seconds"])
    waits = retry_waits(run.logs())
    assert all(wait <= cap for wait in waits), f"{case.name}: a retry waited beyond max_retry_seconds {cap}: {waits}"
    outcome = _assert_all_once_or_named_failure(run, case.name, case.cause_words, case.must_succeed)
    print(f"{case.name}: {outcome} in {run.seconds:.1f} s; stand-in {stats}")


def test_absurd_retry_after_is_capped_to_max_retry_seconds(tmp_path: Path) -> None:
    """Retry-After: 9223372036854775807 on every 2nd request; max_retry_seconds 1 -> every wait the source logs is at
    most 1 s (the CDK's own extra second is subtracted: test_retries), for each 429 sent. No clock is read."""
    with StandIn(SITE, faults=Faults(status_429_every=2, retry_after="9223372036854775807")) as server:
        run = _read(server, tmp_path, max_retry_seconds=1, min_retry_seconds=0.05, max_retries=3, num_workers=1)
        limited = server.stats.status_429_sent
    _assert_all_once_or_named_failure(run, "absurd Retry-After", ("429",), must_succeed=True)
    assert limited >= 5, f"only {limited} 429s were sent"
    waits = retry_waits(run.logs())
    assert len(waits) >= limited, f"{limited} 429s sent but {len(waits)} retry waits logged: {run.logs()[-10:]}"
    assert waits and max(waits) <= 1.0, f"Retry-After is not capped by max_retry_seconds (1 s): waits {waits}"


class _CursorForgingStandIn(StandIn):
    """Serves the `forge_at`-th v2 page listing with a `_links.next` whose cursor the server never issued."""

    def __init__(self, *args: Any, forge_at: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._forge_at = forge_at
        self._listings = 0
        self._lock = threading.Lock()
        self.forged = 0

    def _route_api(self, api: str, path: str, query: dict[str, list[str]], *request: Any) -> ApiResult:
        result = super()._route_api(api, path, query, *request)
        links = result.body.get("_links", {}) if isinstance(result.body, dict) else {}
        if api != "v2" or not path.endswith("/pages") or "next" not in links:
            return result
        with self._lock:
            self._listings += 1
            forge = self._listings == self._forge_at
            self.forged += forge
        if forge:
            prefix, _, _ = links["next"].partition("cursor=")
            # a cursor signed for another endpoint: what a client gets by reusing or rebuilding cursors
            links["next"] = prefix + "cursor=" + encode_cursor("/wiki/api/v2/spaces", "1")
            result.headers.pop("Link", None)
        return result


def test_invalid_cursor_fails_with_a_trace_naming_it(tmp_path: Path) -> None:
    with _CursorForgingStandIn(SITE, forge_at=2) as server:
        run = _read(server, tmp_path, num_workers=1)
        forged = server.forged
    assert forged == 1, "the stand-in did not hand out the forged cursor"
    outcome = _assert_all_once_or_named_failure(run, "invalid cursor", ("400", "cursor", "bad request"), False)
    assert outcome == "failed", f"a forged cursor cannot lead to every page: {PageCount.of(run.records(), SITE)}"
