"""The `talentbot` command line: sub-commands reach their modules and bad input exits 2."""

import io
import json

import pytest

from talentbot.wiring import cli


def test_eligibility_reads_json_and_prints_a_result(monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"as_of": "2023-03-01", "annual_income_hkd": 2500000}'))
    assert cli.main(["eligibility"]) == 0
    result = json.loads(capsys.readouterr().out)
    ttps = next(r for r in result["results"] if r["scheme"] == "TTPS")
    assert (ttps["status"], ttps["category"]) == ("eligible", "A")


def test_eligibility_rejects_malformed_input(monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("{not json"))
    assert cli.main(["eligibility"]) == 2
    assert capsys.readouterr().err.strip()


def test_staff_add_creates_an_account_once(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'handoff.sqlite3'}")
    monkeypatch.setattr("sys.stdin", io.StringIO("correct-horse-battery\n"))
    assert cli.main(["staff", "add", "--username", "alice", "--role", "agent"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("correct-horse-battery\n"))
    assert cli.main(["staff", "add", "--username", "alice", "--role", "agent"]) != 0


def test_unknown_options_are_refused() -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", "--bogus"])
    assert exit_.value.code == 2


def test_serve_needs_both_secrets_in_the_environment(monkeypatch, capsys) -> None:
    """Servers started apart (systemd units) must share the tokens: `serve` never generates them."""
    monkeypatch.delenv("RASA_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "set")
    assert cli.main(["serve", "actions"]) == 2
    assert "RASA_AUTH_TOKEN" in capsys.readouterr().err


@pytest.mark.server
def test_serve_actions_becomes_the_action_server_behind_its_token(tmp_path) -> None:
    """What talentbot-actions.service runs: the process is replaced by the action server itself (exec), so
    systemd sees it die and its signals reach it."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import httpx

    from talentbot.core import paths
    from talentbot.wiring.devserver import free_port, prepare_handoff_database, wait_until_ready

    queue = f"sqlite:///{tmp_path / 'handoff.sqlite3'}"
    prepare_handoff_database(queue)
    port = free_port()
    env = {**os.environ, "RASA_AUTH_TOKEN": "api", "ACTION_SERVER_TOKEN": "secret", "HANDOFF_DB_URL": queue}
    command = [sys.executable, "-m", "talentbot.wiring.cli", "serve", "actions", "--actions-port", str(port)]
    process = subprocess.Popen(command,
                               cwd=paths.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/health", process, timeout=120)
        assert "talentbot.rasa_plugins.action_server" in Path(f"/proc/{process.pid}/cmdline").read_text()
        assert httpx.post(f"http://127.0.0.1:{port}/webhook", json={}, timeout=10).status_code == 401
        authorised = httpx.get(f"http://127.0.0.1:{port}/actions", headers={"Authorization": "Bearer secret"},
                               timeout=10)
        assert {"name": "action_handoff"} in authorised.json()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
