"""One base for every error that is the user's (their input, options, files or install), not a bug of ours.

The CLI's `guarded` catches `EdgefaceError` (and `OSError`: a full disk, a permission) and prints its message
in one line with exit status 2; anything else is a bug and keeps its traceback. Subclasses also derive from
the builtin their callers used to catch (ValueError, RuntimeError, ImportError), so library users' `except`
clauses keep working.
"""

from __future__ import annotations


class EdgefaceError(Exception):
    """A user error: the message says what is wrong and what to do."""


class UsageError(EdgefaceError, ValueError):
    """An option or input value that cannot be used as given."""


class MissingDependency(EdgefaceError, ImportError):
    """An optional package (TensorFlow, dlib, PyPI mtcnn, ...) that this command needs is not installed."""
