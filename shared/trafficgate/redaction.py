"""Mask secrets before anything is cut or written, and describe values within a fixed budget.

Layer L0 (leaves): imports nothing of ours. The rule every output follows (logs, the verdict,
``--json``, EMF, exception text): **no run of** :data:`MIN_RUN` **or more characters of a secret
value ever appears**. Masking the whole value is not enough: text cut at a limit, or echoed in part
by a broken server, holds a piece of the secret that no longer matches it. So the masker looks
for every :data:`MIN_RUN`-character window of every secret, and masks each maximal run it finds.

Secrets are registered once per container (:func:`register`): the values of the probe's auth
headers, as soon as they are read. A masker built from the registry is used by the log formatter,
the runner's summary and the probe's failure samples.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from typing import Any

#: The shortest run of a secret that is masked. A shorter one cannot identify a credential and
#: would mask half of every log line ("Bearer", "token=").
MIN_RUN = 6
#: What a masked run becomes.
MASK = "***"


class Masker:
    """Masks every run of :data:`MIN_RUN` or more characters of any of ``secrets`` in a text.

    Parameters
    ----------
    secrets
        The secret values. Values shorter than :data:`MIN_RUN` are masked only where they stand
        whole; their JSON-escaped forms are masked too, so a log line that quotes them is covered.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = {s for s in secrets if isinstance(s, str) and s}
        # JSON and repr escape quotes and backslashes: a secret inside a serialized line is spelt so.
        escaped = {json.dumps(s)[1:-1] for s in values} | {repr(s)[1:-1] for s in values}
        forms = {v for v in values | escaped if v}
        self._grams = frozenset(v[i : i + MIN_RUN] for v in forms for i in range(len(v) - MIN_RUN + 1))
        self._short = sorted((v for v in forms if len(v) < MIN_RUN), key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._grams or self._short)

    def __call__(self, text: str) -> str:
        """``text`` with every run of a secret replaced by :data:`MASK`."""
        if not self or not text:
            return text
        covered = bytearray(len(text))
        if self._grams:
            grams = self._grams
            for i in range(len(text) - MIN_RUN + 1):
                if text[i : i + MIN_RUN] in grams:
                    covered[i : i + MIN_RUN] = b"\x01" * MIN_RUN
        for value in self._short:
            start = text.find(value)
            while start != -1:
                covered[start : start + len(value)] = b"\x01" * len(value)
                start = text.find(value, start + 1)
        if not any(covered):
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            if covered[i]:
                while i < len(text) and covered[i]:
                    i += 1
                out.append(MASK)
            else:
                start = i
                while i < len(text) and not covered[i]:
                    i += 1
                out.append(text[start:i])
        return "".join(out)

    def cut(self, text: str, limit: int) -> str:
        """Mask, then cut to ``limit`` characters: never the other way round."""
        masked = self(text)
        return masked if len(masked) <= limit else masked[: max(0, limit - 3)] + "..."

    def tree(self, value: Any) -> Any:
        """A copy of a JSON-like value with every string (keys too) masked."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, Mapping):
            return {self(k) if isinstance(k, str) else k: self.tree(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.tree(v) for v in value]
        return value


_lock = threading.Lock()
_registered: set[str] = set()
_current = Masker()


def register(secrets: Iterable[str]) -> None:
    """Remember secret values for every masker of this container (logs, summaries, samples)."""
    global _current
    with _lock:
        before = len(_registered)
        _registered.update(s for s in secrets if isinstance(s, str) and s)
        if len(_registered) != before:
            _current = Masker(_registered)


def registered() -> frozenset[str]:
    """Every secret value registered so far."""
    with _lock:
        return frozenset(_registered)


def masker() -> Masker:
    """The masker of every secret registered so far."""
    return _current


def mask(text: str) -> str:
    """``text`` with every registered secret masked."""
    return _current(text)


def forget_all() -> None:
    """Forget the registered secrets (tests; a new container starts empty)."""
    global _current
    with _lock:
        _registered.clear()
        _current = Masker()


def describe(value: Any, limit: int = 60) -> str:
    """A one-line description of a JSON-like value, built within ``limit`` characters.

    Never serializes more than it shows: a value of millions of elements (a YAML alias bomb, a
    huge response) costs ``O(limit)``, not its size. Strings are quoted as ``repr`` does.
    """
    parts: list[str] = []
    budget = [limit + 1]

    def emit(text: str) -> bool:
        parts.append(text[: budget[0]])
        budget[0] -= len(text)
        return budget[0] > 0

    def walk(item: Any, depth: int) -> bool:
        if depth > 20:
            return emit("...")
        if isinstance(item, str):
            return emit(repr(item[: budget[0] + 2]))
        if item is None or isinstance(item, bool | int | float):
            return emit(json.dumps(item) if not isinstance(item, float) or item == item else "NaN")
        if isinstance(item, Mapping):
            if not emit("{"):
                return False
            for n, (key, val) in enumerate(item.items()):
                if (n and not emit(", ")) or not emit(json.dumps(str(key)[: budget[0]]) + ": "):
                    return False
                if not walk(val, depth + 1):
                    return False
            return emit("}")
        if isinstance(item, list | tuple):
            if not emit("["):
                return False
            for n, val in enumerate(item):
                if (n and not emit(", ")) or not walk(val, depth + 1):
                    return False
            return emit("]")
        return emit(type(item).__name__)

    walk(value, 0)
    text = "".join(parts)
    return text if len(text) <= limit else text[: max(0, limit - 3)] + "..."
