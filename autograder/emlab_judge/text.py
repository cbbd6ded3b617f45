"""Bounding text that came from a submission before it is stored or shown: cut at a word
boundary (never mid-word), and valid UTF-8 (a lone surrogate is escaped, not fatal)."""

from __future__ import annotations

__all__ = ["cut_at_word", "one_line", "valid_utf8"]


def cut_at_word(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters; otherwise cut at the last space before
    ``limit`` (or at ``limit`` when that space is in the first half) and marked with " …"."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[:cut if cut > limit // 2 else limit].rstrip(" ,;:") + " …"


def one_line(text, limit: int) -> str:
    """``text`` with its whitespace runs made single spaces, then :func:`cut_at_word`."""
    return cut_at_word(" ".join(str(text).split()), limit)


def valid_utf8(text) -> str:
    """``text`` as a string that encodes to UTF-8 (lone surrogates backslash-escaped)."""
    text = text if isinstance(text, str) else str(text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
