"""`make bench` (`python -m tools.bench`): training, memory, latency, throughput and accuracy, as a JSON report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from talentbot.core import paths
from tools.bench.main import main


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    parser.add_argument("--out", type=Path, default=paths.ROOT / "bench" / "reports" / "latest.json")
    parser.add_argument("--soak-minutes", type=float, default=30.0,
                        help="length of the soak on three hosts (tools/bench/soak.py); 0 skips it")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main(parse(sys.argv[1:])))
