"""Length limits of answers: what fits one chat screen (issue 3, "Accurate answers in three languages")."""

#: Longest summary per language before it must be split into summary + "tell me more" (issue 3:
#: "600 characters in English, 300 in Chinese"; a Chinese character carries about two English ones).
MAX_SUMMARY_CHARS: dict[str, int] = {"en": 600, "zh-Hant": 300, "zh-Hans": 300}

#: Longest "tell me more" part: two screens. Longer material belongs on the official page we link.
MAX_MORE_CHARS: dict[str, int] = {"en": 1200, "zh-Hant": 600, "zh-Hans": 600}

#: At most this many schemes named in one message are answered (one reply each), so a user
#: comparing "GEP and ASMTP" gets both without flooding a chat screen.
MAX_SCHEMES_PER_MESSAGE = 2
