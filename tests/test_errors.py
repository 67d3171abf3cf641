"""Error messages quote what clients sent; control characters in them are escaped."""

from __future__ import annotations

import logging

from openlisten.api.server import install_log_redaction
from openlisten.errors import InvalidParameter, escape_control


def test_control_characters_are_escaped() -> None:
    assert escape_control("a\r\nb\x00c\x7f\u2028d\te") == "a\\r\\nb\\x00c\\x7f\\u2028d\\te"
    assert escape_control("plain ünïcode, fine") == "plain ünïcode, fine"
    assert InvalidParameter("redact=x\r\nForged: 1").message == "redact=x\\r\\nForged: 1"


def test_log_arguments_are_escaped() -> None:
    install_log_redaction()
    record = logging.getLogger("openlisten.test").makeRecord(
        "openlisten.test", logging.INFO, __file__, 1, "refused: %s (%d)", ("x\r\nForged: 1", 3), None
    )
    assert record.getMessage() == "refused: x\\r\\nForged: 1 (3)"
