"""What one render of a template may cost, and the checks that keep it there.

Templates come from pull requests, so each render is bounded: the sizes of the strings, lists
and numbers it builds (checked *before* an operation that could multiply them, and on every
result), the memory its operations allocate in total, the steps it takes, the size of its
output, and (for overrides) its wall time. Python offers no per-render memory ceiling
(RLIMIT_AS is process-wide), so sizes are bounded instead. The budget lives in a context
variable: nothing process-wide is touched, and renders in other threads have their own.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator, Mapping, MappingView
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2.utils import Namespace

MiB = 1024 * 1024
MAX_TEMPLATE = 128 * 1024  # characters of a template's source (an e-mail is far smaller)
MAX_NODES = 5_000  # elements of a parsed template (each costs ~0.1 ms to compile)
MAX_OUTPUT = 256 * 1024  # characters of a rendered part (Gmail clips e-mails past ~100 KB)
MAX_STRING = MiB  # characters of any string a template builds, or of a value it prints
MAX_ITEMS = 10_000  # items of any list, mapping or range a template builds
MAX_INT_BITS = 4096  # bits of any integer a template computes (about 1,200 digits)
MAX_WORK = 64 * MiB  # bytes a render's own operations may allocate, all together
MAX_STEPS = 20_000  # loop iterations, calls, filters and outputs of one render
RENDER_SECONDS = 2.0  # wall time of one render of an override
ACCOUNT_SECONDS = 10.0  # wall time of all the renders of one account's overrides together


class LimitExceeded(Exception):
    """A render went past one of the bounds above; the message says which and how."""


@dataclass
class Budget:
    deadline: float  # time.monotonic() value; inf for the trusted originals
    steps: int = 0
    work: int = 0
    account_bound: bool = False  # the deadline is the account's, not this render's


_CURRENT: ContextVar[Budget | None] = ContextVar("ametrika_render_budget", default=None)
# Many overrides, each within its own bound, could still add up: one deadline per account.
_ACCOUNT: ContextVar[float] = ContextVar("ametrika_account_deadline", default=float("inf"))


@contextmanager
def account_budget(seconds: float | None = None) -> Iterator[None]:
    """All the renders of one account's overrides in this block share ACCOUNT_SECONDS."""
    limit = ACCOUNT_SECONDS if seconds is None else seconds
    token = _ACCOUNT.set(time.monotonic() + limit)
    try:
        yield
    finally:
        _ACCOUNT.reset(token)


@contextmanager
def budget(seconds: float | None) -> Iterator[Budget]:
    """The budget of one render, current in this context (thread) until the block ends."""
    own = float("inf") if seconds is None else time.monotonic() + seconds
    account = _ACCOUNT.get() if seconds is not None else float("inf")
    current = Budget(min(own, account), account_bound=account < own)
    token = _CURRENT.set(current)
    try:
        yield current
    finally:
        _CURRENT.reset(token)


def step(count: int = 1) -> None:
    """Count steps of the current render; stop it past MAX_STEPS or its deadline."""
    current = _CURRENT.get()
    if current is None:
        return
    current.steps += count
    if current.steps > MAX_STEPS:
        raise LimitExceeded(
            f"the template takes more than {MAX_STEPS:,} steps (loop iterations, calls, "
            "filters, outputs) to render with the sample data"
        )
    if time.monotonic() > current.deadline:
        if current.account_bound:
            raise LimitExceeded(
                f"the account's overrides together take more than {ACCOUNT_SECONDS:g} s to "
                "render with the sample data"
            )
        raise LimitExceeded(
            f"the template takes more than {RENDER_SECONDS:g} s to render with the sample data"
        )


def charge(nbytes: int) -> None:
    """Count memory the current render's operations allocate."""
    current = _CURRENT.get()
    if current is None:
        return
    current.work += nbytes
    if current.work > MAX_WORK:
        raise LimitExceeded(
            f"the template allocates more than {MAX_WORK // MiB} MiB in total to render "
            "with the sample data"
        )


class _Over(Exception):
    pass


def text_size(value: Any, limit: int = MAX_STRING, indent: int = 0) -> int:
    """An upper estimate of ``len(str(value))``, exact for a string, counted no further than
    just past ``limit`` (so that it costs at most about ``limit`` steps). ``indent``: per item
    and level of nesting, as json.dumps(indent=…) and pprint lay it out."""
    if isinstance(value, str):
        return len(value)
    total = [0]

    def add(n: int) -> None:
        total[0] += n
        if total[0] > limit:
            raise _Over

    def walk(v: Any, depth: int, ancestors: set[int]) -> None:
        if isinstance(v, str):  # inside a container: its repr, with quotes and escapes
            n = len(v)
            if n <= 4096 and v.isprintable():  # exact enough, and cheap for short ones
                add(2 * n + 12)
            else:  # an upper bound without reading it: \x07 takes 4, \U0001f600 10
                add((4 if v.isascii() else 10) * n + 12)
        elif isinstance(v, (bytes, bytearray)):
            add(4 * len(v) + 3)
        elif isinstance(v, bool) or v is None:
            add(5)
        elif isinstance(v, int):
            add(v.bit_length() // 3 + 2)
        elif isinstance(v, float):
            add(32)
        elif isinstance(v, (list, tuple, set, frozenset, Mapping, MappingView, Namespace)):
            if id(v) in ancestors:
                add(5)  # printed as [...]
                return
            ancestors.add(id(v))
            add(12)
            if isinstance(v, Namespace):
                v = object.__getattribute__(v, "_Namespace__attrs")
            # a view (d.items()) prints what it shows, like the mapping
            pairs = v.items() if isinstance(v, Mapping) else ((None, x) for x in v)
            for key, item in pairs:
                add(2 + indent * (depth + 1))
                if key is not None:
                    walk(key, depth + 1, ancestors)
                walk(item, depth + 1, ancestors)
            ancestors.discard(id(v))
        else:
            add(100)  # a date, a macro, a loop: a short repr

    try:
        walk(value, 0, set())
    except _Over:
        return limit + 1
    return total[0]


def need_text(value: Any, what: str, limit: int = MAX_STRING) -> None:
    if text_size(value, limit) > limit:
        raise LimitExceeded(f"{what} would be longer than {limit:,} characters")


def need_length(length: int, what: str) -> None:
    if length > MAX_STRING:
        raise LimitExceeded(f"{what} would be longer than {MAX_STRING:,} characters")


def need_items(count: int, what: str) -> None:
    if count > MAX_ITEMS:
        raise LimitExceeded(f"{what} would hold more than {MAX_ITEMS:,} items")


def need_bits(bits: int, what: str) -> None:
    if bits > MAX_INT_BITS:
        raise LimitExceeded(f"{what} would be a number of more than {MAX_INT_BITS:,} bits")


def need_width(width: Any, what: str) -> None:
    if isinstance(width, int) and width > MAX_STRING:
        raise LimitExceeded(f"{what}: a width of more than {MAX_STRING:,} characters")


def produced(value: Any, what: str) -> Any:
    """Check and count a value an operation of the template has just built."""
    if isinstance(value, (str, bytes)):
        need_length(len(value), what)
        charge(sys.getsizeof(value))
    elif isinstance(value, (list, tuple, dict, set, frozenset)):
        need_items(len(value), what)
        charge(64 + 8 * len(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        need_bits(value.bit_length(), what)
    elif isinstance(value, Iterator):  # a filter's generator (map, select, batch…)
        return stepped(value)
    return value


def stepped(items: Iterable[Any]) -> Iterator[Any]:
    """``items``, one step per item."""
    for item in items:
        step()
        yield item


class Loop:
    """A {% for %} loop's iterable: one step per iteration; its length when it has one
    (loop.length, loop.last)."""

    def __init__(self, iterable: Any) -> None:
        self.iterable = iterable

    def __iter__(self) -> Iterator[Any]:
        return stepped(self.iterable)

    def __len__(self) -> int:
        return len(self.iterable)


def materialize(items: Any, what: str) -> Any:
    """A list of ``items`` when they are not already a sequence, no longer than MAX_ITEMS."""
    if isinstance(items, (str, bytes, list, tuple, Mapping, set, frozenset)):
        return items
    out = []
    for item in items:
        out.append(item)
        need_items(len(out), what)
        step()
    return out
