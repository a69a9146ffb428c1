"""One module per ``leafml`` subcommand; each has ``register(subparsers)``.

A subcommand parses its flags and calls the library; it returns the process
exit status.  ``cli.py`` only assembles them.
"""


def whole_number(what: str, minimum: int = 1):
    """An argparse type: a whole number >= ``minimum``; the error names ``what`` (e.g. "inputs")."""
    import argparse

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number{' of ' + what if what else ''} >= {minimum}, got {text!r}")
        return value

    return parse
