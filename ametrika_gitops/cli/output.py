"""How results reach people: colour, --quiet and --verbose, progress on stderr.

Results go to stdout, everything else (summaries, progress, findings) to stderr. Colour is
added with click.style and removed again by click.echo whenever the stream is not a terminal,
so pipes, files and CI logs stay plain; NO_COLOR (https://no-color.org) and --no-color turn it
off on a terminal too, --color forces it.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

import click

META_KEY = "ametrika_gitops.output"
INTERVAL_ENV = "AMETRIKA_GITOPS_PROGRESS_INTERVAL"  # seconds between progress lines off a terminal
CI_INTERVAL = 10.0

STYLES: dict[str, dict[str, object]] = {
    "add": {"fg": "green"},
    "change": {"fg": "yellow"},
    "delete": {"fg": "red"},
    "error": {"fg": "red", "bold": True},
    "warning": {"fg": "yellow", "bold": True},
    "ok": {"fg": "green"},
    "heading": {"bold": True},
    "hunk": {"fg": "cyan"},
    "dim": {"dim": True},
}


@dataclass
class Settings:
    quiet: bool = False
    verbose: bool = False


_fallback = Settings()  # outside a click context (tests of pure helpers)


def settings() -> Settings:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return _fallback
    found = ctx.meta.setdefault(META_KEY, Settings())
    assert isinstance(found, Settings)
    return found


def no_color_env() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def set_color(ctx: click.Context, _param: click.Parameter, value: bool | None) -> None:
    """--color/--no-color; without either, NO_COLOR decides, then whether it is a terminal."""
    root = ctx.find_root()
    if value is not None:
        ctx.color = root.color = value
    elif no_color_env() and ctx.color is None:
        ctx.color = root.color = False


def set_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        settings().quiet = True


def set_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        settings().verbose = True


def style(text: str, kind: str) -> str:
    return click.style(text, **STYLES[kind])  # type: ignore[arg-type]


def info(message: str) -> None:
    """A summary or a step on stderr; --quiet hides it."""
    if not settings().quiet:
        click.echo(message, err=True)


def detail(message: str) -> None:
    """What only --verbose shows."""
    if settings().verbose and not settings().quiet:
        click.echo(message, err=True)


_FINDING = re.compile(r"^(?P<where>.*?: )(?P<sev>error|warning)(?P<rest>\[[^\]]*\]: .*)$")


def paint_findings(text: str) -> str:
    """path:line:col: error[code]: … with the severity in red or yellow."""
    out = []
    for line in text.splitlines(keepends=True):
        m = _FINDING.match(line.rstrip("\n"))
        if m:
            sev = m["sev"]
            line = m["where"] + style(sev, sev) + m["rest"] + ("\n" if line.endswith("\n") else "")
        out.append(line)
    return "".join(out)


def paint_diff_line(line: str) -> str:
    """One line of a unified diff or of a change list: additions, deletions, hunks."""
    body = line.lstrip(" ")
    if body.startswith(("+++", "---")):
        return style(line, "heading")
    if body.startswith("@@"):
        return style(line, "hunk")
    if body.startswith("+"):
        return style(line, "add")
    if body.startswith("-"):
        return style(line, "delete")
    if body.startswith("~"):
        return style(line, "change")
    return line


def paint_lines(text: str, painter: Callable[[str], str]) -> str:
    return "".join(
        painter(line.rstrip("\n")) + ("\n" if line.endswith("\n") else "")
        for line in text.splitlines(keepends=True)
    )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"


class Progress:
    """Counts and an estimate of the time left, on stderr: one line redrawn on a terminal,
    else a plain line every ``interval`` seconds (so a CI log shows the job is alive, and short
    runs print nothing). click.progressbar is silent off a terminal, hence this class."""

    def __init__(
        self,
        label: str,
        total: int,
        noun: str,
        *,
        stream: TextIO | None = None,
        tty: bool | None = None,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        enabled: bool = True,
    ) -> None:
        self.label, self.total, self.noun = label, total, noun
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        if interval is None:
            interval = _env_interval()
        self.interval = 0.1 if self.tty else interval
        self.delay = 0.5 if self.tty else interval  # nothing at all for a run shorter than this
        self.clock = clock
        self.enabled = enabled and total > 0
        self.start = clock()
        self.last = self.start
        self.done = 0
        self.drawn = False

    def text(self, now: float) -> str:
        pct = 100 * self.done // self.total
        line = f"{self.label}: {self.done:,}/{self.total:,} {self.noun} ({pct}%)"
        elapsed = now - self.start
        if self.done >= self.total:
            return f"{line} in {_duration(elapsed)}"
        if self.done and elapsed > 0:
            left = elapsed / self.done * (self.total - self.done)
            line += f", about {_duration(left)} left"
        return line

    def __call__(self, step: int = 1) -> None:
        self.done += step
        if not self.enabled:
            return
        now = self.clock()
        if now - self.start < self.delay or now - self.last < self.interval:
            return
        self.last = now
        self._draw(self.text(now))

    def _draw(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.drawn = True

    def finish(self) -> None:
        """The closing line, only when a progress line was shown."""
        if self.enabled and self.drawn:
            self._draw(self.text(self.clock()))
            if self.tty:
                self.stream.write("\n")
                self.stream.flush()


def _env_interval() -> float:
    try:
        return max(0.0, float(os.environ.get(INTERVAL_ENV, CI_INTERVAL)))
    except ValueError:
        return CI_INTERVAL


def progress(label: str, total: int, noun: str) -> Progress:
    """A progress reporter for the current command; --quiet turns it off."""
    return Progress(label, total, noun, enabled=not settings().quiet)
