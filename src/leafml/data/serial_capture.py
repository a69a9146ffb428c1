"""A serial data forwarder: CSV lines a board prints, read for a while, made into one recording.

The board prints one line per sample, its values separated by commas, tabs
or spaces (what Edge Impulse's data forwarder reads too). leafml reads the
port with pyserial for the given time and then:

- drops the first line, which may have started before the port was opened,
  and every line that is not all numbers (boot banners, messages) or has
  another number of values than the data lines (most lines decide, or
  ``axes`` when given); the count is reported and the raw bytes are kept;
- checks the rate: lines per second measured from their arrival times must
  be within 10 % of the rate the board is said to sample at (default: the
  project's), because a board that prints at another rate than believed
  would be stored with a wrong time axis. The values are taken to be at the
  stated rate, not the measured one, which USB buffering blurs.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from leafml.data.recording import Recording, sensors_named
from leafml.errors import LeafmlError

__all__ = ["RATE_TOLERANCE", "Capture", "CaptureError", "capture_serial", "parse_capture"]

RATE_TOLERANCE = 0.10
_SEPARATOR = re.compile(r"[,\t ]+")


class CaptureError(LeafmlError):
    """A capture that gave no usable recording."""


@dataclass(frozen=True)
class Capture:
    """One capture: the recording, the raw bytes received, the measured
    rate (lines per second), how many lines were dropped, and whether the
    port closed before the time was up."""

    recording: Recording
    raw: bytes
    measured_rate_hz: float
    dropped_lines: int
    ended_early: bool


def capture_serial(port: str, baud: int, seconds: float, rate_hz: float, axes: Sequence[str] | None = None,
                   units: Mapping[str, str] | None = None) -> Capture:
    """Read CSV lines from the serial ``port`` at ``baud`` for ``seconds``
    and make them one recording at ``rate_hz`` (the rate the board samples
    at, in Hz), its axes named ``axes`` (default "ch0", "ch1", ...)."""
    try:
        import serial
    except ImportError:
        raise LeafmlError("serial capture needs pyserial: pip install pyserial") from None
    try:
        connection = serial.Serial(port, baud, timeout=0.05)
    except (serial.SerialException, ValueError) as err:
        raise LeafmlError(f"cannot open {port} at {baud} baud ({err}): check the port name, that the board is "
                          "plugged in and that no other program holds the port") from None
    raw = bytearray()
    partial = b""  # the line still being received
    lines: list[tuple[float, bytes]] = []
    ended_early = False
    deadline = time.monotonic() + seconds
    with connection:
        while time.monotonic() < deadline:
            try:
                chunk = connection.read(connection.in_waiting or 1)
            except (serial.SerialException, OSError):
                ended_early = True
                break
            now = time.monotonic()
            raw += chunk
            *complete, partial = (partial + chunk).split(b"\n")
            lines += [(now, line) for line in complete]
    return parse_capture(lines, bytes(raw), rate_hz, axes, units or {}, ended_early)


def parse_capture(lines: list[tuple[float, bytes]], raw: bytes, rate_hz: float, axes: Sequence[str] | None,
                  units: Mapping[str, str], ended_early: bool = False) -> Capture:
    """Make a `Capture` from received lines, each with its arrival time in
    seconds (any clock); see the module notes for the rules."""
    rows: list[tuple[float, list[float]]] = []
    for arrived, line in lines[1:]:
        values = _numbers(line)
        if values is not None:
            rows.append((arrived, values))
    if not rows:
        raise CaptureError(f"no CSV data lines among the {len(lines)} lines received: is the board printing "
                           "comma-separated numbers at this baud rate?")
    width = len(axes) if axes else Counter(len(values) for _, values in rows).most_common(1)[0][0]
    kept = [(arrived, values) for arrived, values in rows if len(values) == width]
    if len(kept) < 2:
        raise CaptureError(f"{len(kept)} data lines with {width} values each: capture for longer, or check --axes")
    times = np.array([arrived for arrived, _ in kept])
    measured = (len(kept) - 1) / (times[-1] - times[0]) if times[-1] > times[0] else float("inf")
    if abs(measured / rate_hz - 1) > RATE_TOLERANCE:
        raise CaptureError(f"the board sent {measured:.3g} lines/s but it is taken to sample at {rate_hz:g} Hz: "
                           f"pass --rate-hz {measured:.3g} (it will be resampled to the project rate) or fix the "
                           "board's rate")
    names = list(axes) if axes else [f"ch{i}" for i in range(width)]
    recording = Recording(np.array([values for _, values in kept]), rate_hz, sensors_named(names, units))
    return Capture(recording, raw, measured, len(lines) - len(kept), ended_early)


def _numbers(line: bytes) -> list[float] | None:
    try:
        fields = _SEPARATOR.split(line.decode("ascii").strip())
        values = [float(field) for field in fields]
    except (UnicodeDecodeError, ValueError):
        return None
    return values if all(np.isfinite(values)) else None
