"""One module per scheme; each exposes `assess(profile, ctx) -> SchemeResult`."""
