"""talentbot.rasa_plugins.rasa_api_auth, pure part: the `rasa run` arguments completed from the environment, the header
parsed."""

from __future__ import annotations

from typing import Dict, List, Optional

import pytest

from talentbot.rasa_plugins.rasa_api_auth import bearer, server_arguments, token_matches

RUN = ["run", "--model", "models", "--enable-api"]


@pytest.mark.parametrize(
    "argv, env, expected",
    [
        (RUN, {"RASA_AUTH_TOKEN": "t0k"}, RUN + ["--interface", "127.0.0.1", "--auth-token=t0k"]),
        (RUN, {"RASA_AUTH_TOKEN": "t0k", "RASA_HOST": "10.0.0.5"},
         RUN + ["--interface", "10.0.0.5", "--auth-token=t0k"]),
        (RUN + ["-i", "0.0.0.0"], {"RASA_AUTH_TOKEN": "t"}, RUN + ["-i", "0.0.0.0", "--auth-token=t"]),
        (RUN + ["--auth-token", "given"], {"RASA_AUTH_TOKEN": "env"},
         RUN + ["--auth-token", "given", "--interface", "127.0.0.1"]),
        (RUN, {"RASA_AUTH_TOKEN": "t", "RASA_CORS_ORIGINS": "https://a.example, https://b.example"},
         RUN + ["--interface", "127.0.0.1", "--auth-token=t", "--cors", "https://a.example", "https://b.example"]),
        (RUN + ["--cors", "https://c.example"], {"RASA_AUTH_TOKEN": "t", "RASA_CORS_ORIGINS": "https://a.example"},
         RUN + ["--cors", "https://c.example", "--interface", "127.0.0.1", "--auth-token=t"]),
        (["run", "--model", "m"], {}, ["run", "--model", "m", "--interface", "127.0.0.1"]),  # no API: no token needed
        (["run", "actions"], {"RASA_AUTH_TOKEN": "t"}, ["run", "actions"]),
        (["train"], {"RASA_AUTH_TOKEN": "t"}, ["train"]),
    ],
    ids=["token-from-env", "host-from-env", "interface-given", "token-given", "cors-from-env", "cors-given",
         "no-api", "run-actions", "other-command"],
)
def test_server_arguments(argv: List[str], env: Dict[str, str], expected: List[str]) -> None:
    assert server_arguments(argv, env) == expected


def test_a_token_starting_with_a_dash_reaches_rasa_as_the_tokens_value() -> None:
    """secrets.token_urlsafe starts with "-" one time in 64: as a separate argument Rasa's parser took it for an
    option and `talentbot run` stopped with "argument -t/--auth-token: expected one argument"."""
    from rasa.__main__ import create_argument_parser

    arguments = create_argument_parser().parse_args(server_arguments(RUN, {"RASA_AUTH_TOKEN": "-x1_Yz"}))
    assert arguments.auth_token == "-x1_Yz"


def test_an_api_without_any_token_is_refused() -> None:
    with pytest.raises(ValueError, match="RASA_AUTH_TOKEN"):
        server_arguments(RUN, {})
    assert "--jwt-secret" in server_arguments(RUN + ["--jwt-secret", "s"], {})


@pytest.mark.parametrize(
    "header, token",
    [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer", None), ("", None), (None, None),
     ("abc", None)],
)
def test_bearer(header: Optional[str], token: Optional[str]) -> None:
    assert bearer(header) == token


@pytest.mark.parametrize(
    "header, token, matches",
    [("Bearer abc", "abc", True), ("Bearer abd", "abc", False), ("Bearer abc", "", False), (None, "abc", False),
     ("Bearer ", "", False)],
)
def test_token_matches(header: Optional[str], token: str, matches: bool) -> None:
    assert token_matches(header, token) is matches
