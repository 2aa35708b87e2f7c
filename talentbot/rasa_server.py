"""The Rasa server with talentbot's adjustments: `python -m talentbot.rasa_server run ...` is `rasa run ...`
(same arguments) after `talentbot.rasa_adapters.install()`. `talentbot.devserver` starts Rasa this way."""

from __future__ import annotations

from talentbot import rasa_adapters


def main() -> None:
    rasa_adapters.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
