"""The one exception type for user mistakes (bad scenario, experiment or world file).

The command line catches it in one place and prints its one-line message with exit status 2;
anything else that escapes is a bug and keeps its traceback.

Imports nothing of blocsim.
"""

from __future__ import annotations


class ScenarioError(Exception):
    """A user's input is wrong: names the file, the field path and the line where known."""

    def __init__(self, message: str, *, file: str | None = None, path: str | None = None,
                 line: int | None = None) -> None:
        self.file = file
        self.path = path
        self.line = line
        self.detail = message
        super().__init__(self.format())

    def format(self) -> str:
        """One line: ``file:line: field.path: message``, omitting the parts not known."""
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "")
        head = ": ".join(p for p in (where, self.path) if p)
        return f"{head}: {self.detail}" if head else self.detail


class NonFiniteError(ArithmeticError):
    """A run's state stopped being a number (NaN or inf): a failure of the model, not of the input.

    Raised by ``dynamics.check_finite`` at the end of the step where it happened; the message
    names the step and year, the state and the drivers and channels that were not finite. The
    command line prints it as one line with exit status 1; a batch records the run as failed.
    """
