"""Errors a user can act on: the CLI prints them as one line (exit status 2), no traceback."""


class CommandError(Exception):
    """A failure the user can act on; the message names the input and what to do."""
