"""talentbot.wiring.rasa_server: `rasa run` with our adjustments installed first."""

import os
import subprocess
import sys
from unittest import mock

from talentbot.core import paths
from talentbot.rasa_plugins import rasa_adapters
from talentbot.wiring import rasa_server


def test_the_rasa_server_entry_point_installs_before_rasa_runs():
    calls = mock.Mock()
    with mock.patch.object(rasa_adapters, "install", calls.install), mock.patch("rasa.__main__.main", calls.rasa_main):
        rasa_server.main()
    assert calls.mock_calls == [mock.call.install(), mock.call.rasa_main()]


def _blas_threads_in_a_fresh_server_process(**env: str) -> str:
    """OPENBLAS_NUM_THREADS as the Rasa server process sees it once its module is imported (before numpy is)."""
    clean = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    code = "import os, talentbot.wiring.rasa_server, numpy; print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    done = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                          check=True, cwd=paths.ROOT)
    return done.stdout.strip()


def test_the_server_uses_one_blas_thread_unless_the_operator_says_otherwise():
    assert _blas_threads_in_a_fresh_server_process() == "1"
    assert _blas_threads_in_a_fresh_server_process(OPENBLAS_NUM_THREADS="4") == "4"
