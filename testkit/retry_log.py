"""The retry waits a source run logged (`Retrying <path> after <cause> in <seconds>s (attempt n).`, one line per
retry, the CDK's and the source's own requests alike): what bounds a read under faults, read without a clock."""

from __future__ import annotations

import re
from collections.abc import Iterable

RETRY_LOG = re.compile(r"^Retrying \S* after .* in (?P<seconds>[0-9.]+)s \(attempt \d+\)\.$")


def retry_waits(log_messages: Iterable[str]) -> list[float]:
    return [float(match["seconds"]) for line in log_messages if (match := RETRY_LOG.match(line))]
