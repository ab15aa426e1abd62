# Copyright (c) mmspecgene contributors. All rights reserved.
"""Capture what the tools log to mmengine's current logger (tests only)."""
import logging
from contextlib import contextmanager
from typing import Iterator, List

from mmengine.logging import MMLogger


class _Records(logging.Handler):

    def __init__(self):
        super().__init__()
        self.records: List[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@contextmanager
def captured_log_records() -> Iterator[List[logging.LogRecord]]:
    """Yield the list of records logged to ``MMLogger.get_current_instance()`` inside the ``with`` block."""
    logger, handler = MMLogger.get_current_instance(), _Records()
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
