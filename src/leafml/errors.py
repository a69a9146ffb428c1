"""The root of leafml's error classes.

Every error a user can cause (a bad file, flag, model or missing tool) is a
:class:`LeafmlError` whose message is one line naming the problem and the
fix; the CLI prints exactly that line.  Anything else is a bug in leafml.
"""


class LeafmlError(Exception):
    """A problem with the user's input or environment, explained in one line."""
