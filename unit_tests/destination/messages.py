"""Moved to `testkit/messages.py` (test support lives in testkit); kept so tests written against this name import."""

from testkit.messages import catalog, page, record, state

__all__ = ["catalog", "page", "record", "state"]
