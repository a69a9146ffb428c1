"""One module per ``leafml`` subcommand; each has ``register(subparsers)``.

A subcommand parses its flags and calls the library; it returns the process
exit status.  ``cli.py`` only assembles them.
"""
