"""``leafml capture``: record CSV lines a board prints on a serial port as one sample."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leafml.data.index import SPLITS


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _axes(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",")]
    if not all(names) or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"must be distinct comma-separated names such as ax,ay,az, got {text!r}")
    return names


def register(commands) -> None:
    capture = commands.add_parser("capture", help="record CSV lines a board prints on a serial port as one sample")
    capture.add_argument("--port", required=True, help="the serial device, e.g. /dev/ttyACM0 or COM3")
    capture.add_argument("--baud", type=int, default=115200, help="baud rate (default: 115200)")
    capture.add_argument("--label", required=True, help="the sample's label")
    capture.add_argument("--seconds", type=_positive, required=True, metavar="N", help="how long to record")
    capture.add_argument("--axes", type=_axes, metavar="A,B,...",
                         help="names of the values on each line (default: ch0, ch1, ...)")
    capture.add_argument("--rate-hz", type=_positive, metavar="HZ",
                         help="the rate the board samples at (default: the project's sample_rate_hz); checked "
                              "against the lines received per second")
    capture.add_argument("--project", type=Path, default=Path("."), metavar="DIR",
                         help="the project folder (default: the current folder)")
    capture.add_argument("--group", help="the sample's group, e.g. a session or subject name")
    capture.add_argument("--split", choices=SPLITS, help="put the sample in this split")
    capture.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from leafml.data import Store
    from leafml.data.serial_capture import capture_serial

    with Store(args.project) as store:
        settings = store.project.data
        rate_hz = args.rate_hz or settings.sample_rate_hz
        print(f"recording {args.port} at {args.baud} baud for {args.seconds:g} s ...", file=sys.stderr)
        capture = capture_serial(args.port, args.baud, args.seconds, rate_hz, args.axes, settings.units)
        report = store.add_recording(capture.recording, label=args.label, source=f"serial {args.port}",
                                     original=capture.raw, original_suffix=".txt", group=args.group,
                                     split=args.split)
    if capture.ended_early:
        print(f"the port closed before {args.seconds:g} s: stored what arrived", file=sys.stderr)
    length = capture.recording.values.shape[0]
    print(f"captured {length} lines ({capture.measured_rate_hz:.3g} lines/s measured, {capture.dropped_lines} "
          f"other lines dropped)")
    if report.duplicates:
        print(f"not stored: the same data is sample {report.duplicates[0].same_as_id}")
    else:
        print(f"stored as sample {report.added[0].id} ({args.label!r}, {report.added[0].length} steps at "
              f"{report.added[0].sample_rate_hz:g} Hz)")
    return 0
