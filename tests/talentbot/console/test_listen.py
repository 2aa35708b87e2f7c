"""Where the staff console listens: loopback unless STAFF_CONSOLE_HOST says otherwise (issue 12)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import List, Tuple

import pytest

from talentbot.console.web import listen_address
from talentbot.core import paths
from talentbot.wiring.devserver import free_port


@pytest.mark.parametrize("env, port, expected", [
    ({}, None, ("127.0.0.1", 8080)),
    ({"STAFF_CONSOLE_HOST": ""}, None, ("127.0.0.1", 8080)),
    ({"STAFF_CONSOLE_HOST": "  "}, 9000, ("127.0.0.1", 9000)),
    ({"STAFF_CONSOLE_PORT": "8181"}, None, ("127.0.0.1", 8181)),
    ({"STAFF_CONSOLE_PORT": "8181"}, 9000, ("127.0.0.1", 9000)),
    ({"STAFF_CONSOLE_HOST": "0.0.0.0", "STAFF_CONSOLE_PORT": "8181"}, None, ("0.0.0.0", 8181)),
    ({"STAFF_CONSOLE_HOST": "::1"}, None, ("::1", 8080)),
])
def test_listen_address(env, port, expected: Tuple[str, int]) -> None:
    assert listen_address(port, env) == expected


def _listening(port: int) -> List[str]:
    """The local addresses with a listening TCP socket on `port`, from the kernel's tables (IPv4 and IPv6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found


@pytest.mark.server
def test_talentbot_console_listens_on_loopback_only_by_default(tmp_path: Path) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "STAFF_CONSOLE_HOST"}
    env["HANDOFF_DB_URL"] = f"sqlite:///{tmp_path / 'handoff.sqlite3'}"
    process = subprocess.Popen([sys.executable, "-m", "talentbot.wiring.cli", "console", "--port", str(port)],
                               cwd=paths.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            assert process.poll() is None and time.monotonic() < deadline, "the console did not start"
            time.sleep(0.2)
        assert _listening(port) == ["0100007F"]  # 127.0.0.1, and nothing on 0.0.0.0 or ::
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as page:
            assert page.status == 200
    finally:
        process.terminate()
        process.wait(timeout=15)
