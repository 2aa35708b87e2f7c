"""`talentbot run` checks every port its servers need before it starts anything: a taken port is one clear line
naming the port, the server and how to find the holder, and a non-zero exit; never a traceback, nor a server
restarted in a loop."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from typing import Iterator

import pytest

from talentbot.core import paths
from talentbot.wiring import devserver
from talentbot.wiring.devserver import ACTIONS, CONSOLE, RASA, Listener, free_port, port_problems, run_listeners


def listening(host: str = "127.0.0.1") -> socket.socket:
    """A socket holding a free port, as another program's server would."""
    holder = socket.socket()
    holder.bind((host, 0))
    holder.listen()
    return holder


@pytest.fixture
def held() -> Iterator[int]:
    with listening() as holder:
        yield holder.getsockname()[1]


def loopback(port: int) -> Listener:
    return Listener(RASA, "127.0.0.1", port, "--port or RASA_PORT")


def test_free_ports_are_no_problem() -> None:
    assert port_problems(run_listeners(free_port(), free_port(), free_port(), {})) == []


def test_a_taken_port_is_one_line_naming_it_its_server_and_how_to_find_the_holder(held: int) -> None:
    [line] = port_problems([loopback(held)])
    assert line == (f"talentbot run: port {held}, which the Rasa server needs, is already in use; find what holds it "
                    f"with `ss -ltnp 'sport = :{held}'` and stop it, or choose another port (--port or RASA_PORT)")


def test_a_port_taken_on_every_interface_is_taken_on_loopback_too() -> None:
    with listening("0.0.0.0") as holder:
        port = holder.getsockname()[1]
        assert len(port_problems([loopback(port)])) == 1


def test_a_port_left_in_time_wait_is_free() -> None:
    """After Ctrl-C, closed connections linger in TIME_WAIT on the server's port; the servers bind with
    SO_REUSEADDR (Sanic's bind_socket, asyncio's create_server for aiohttp), so an immediate `make run` works and
    must not be refused."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server side closes first: its port is the one left in TIME_WAIT
        client.close()
    time.sleep(0.1)
    assert port_problems([loopback(port)]) == []


def test_two_servers_given_one_port_are_refused() -> None:
    port = free_port()
    [line] = port_problems(run_listeners(free_port(), port, port, {}))
    assert f"the {ACTIONS} and the {CONSOLE} would both listen on port {port}" in line


def test_each_server_listens_where_its_environment_says() -> None:
    env = {"RASA_HOST": "0.0.0.0", "ACTION_SERVER_HOST": "::1", "STAFF_CONSOLE_HOST": "127.0.0.2"}
    assert [(listener.server, listener.host) for listener in run_listeners(1, 2, 3, env)] == [
        (RASA, "0.0.0.0"), (ACTIONS, "::1"), (CONSOLE, "127.0.0.2")]


@pytest.mark.parametrize("server, setting", [(RASA, "--port"), (ACTIONS, "--actions-port"),
                                             (CONSOLE, "--console-port")])
def test_run_stops_before_training_or_starting_anything(monkeypatch, capsys, held: int, server: str,
                                                        setting: str) -> None:
    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("talentbot run went on despite a taken port")

    monkeypatch.setattr(devserver, "ensure_model", must_not_run)
    monkeypatch.setattr(devserver, "Supervisor", must_not_run)
    ports = {RASA: free_port(), ACTIONS: free_port(), CONSOLE: free_port(), server: held}
    assert devserver.run(ports[RASA], ports[ACTIONS], console_port=ports[CONSOLE]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert f"port {held}, which the {server} needs" in line and setting in line


def test_the_cli_exits_non_zero_with_the_line_and_no_traceback(held: int) -> None:
    command = [sys.executable, "-m", "talentbot.wiring.cli", "run", "--port", str(free_port()),
               "--actions-port", str(held), "--console-port", str(free_port())]
    result = subprocess.run(command, cwd=paths.ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""  # nothing started: no "Model is up to date", no "Starting ..."
    assert result.stderr.splitlines() == [
        f"talentbot run: port {held}, which the action server needs, is already in use; find what holds it with "
        f"`ss -ltnp 'sport = :{held}'` and stop it, or choose another port (--actions-port or ACTIONS_PORT)"]
