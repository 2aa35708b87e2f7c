"""talentbot.wiring.rasa_server: `rasa run` with our adjustments installed first."""

from unittest import mock

from talentbot.rasa_plugins import rasa_adapters
from talentbot.wiring import rasa_server


def test_the_rasa_server_entry_point_installs_before_rasa_runs():
    calls = mock.Mock()
    with mock.patch.object(rasa_adapters, "install", calls.install), mock.patch("rasa.__main__.main", calls.rasa_main):
        rasa_server.main()
    assert calls.mock_calls == [mock.call.install(), mock.call.rasa_main()]
