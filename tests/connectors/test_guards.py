"""Oversized bodies are refused before parsing."""
from __future__ import annotations

from typing import Optional

import pytest

from connectors.guards import MAX_BODY_BYTES, body_too_large


@pytest.mark.parametrize(
    "body, content_length, too_large",
    [
        (b"x" * MAX_BODY_BYTES, None, False),
        (b"x" * (MAX_BODY_BYTES + 1), None, True),
        (b"", str(MAX_BODY_BYTES + 1), True),  # declared size is enough to refuse
        (b"x" * (MAX_BODY_BYTES + 1), "10", True),  # a lying Content-Length does not help
        (b"x", "abc", True),
        (None, None, False),
    ],
)
def test_body_too_large(body: Optional[bytes], content_length: Optional[str], too_large: bool) -> None:
    assert body_too_large(body, content_length) is too_large
