"""Errors raised by the job queue; each message is one user-facing sentence."""

from __future__ import annotations

import math

from bot.errors import StylebotError


class JobRejected(StylebotError):
    """A job was refused; nothing was queued."""


class QueueFull(JobRejected):
    """Too many jobs are already waiting."""

    def __init__(self) -> None:
        super().__init__("The queue is full right now; please try again in a few minutes.")


class UserBusy(JobRejected):
    """The user already has as many jobs queued or running as allowed."""

    def __init__(self) -> None:
        super().__init__("You already have a job running; wait for it to finish.")


class OnCooldown(JobRejected):
    """The user submitted too recently; ``retry_after`` is in seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"You can stylize again in {max(1, math.ceil(retry_after))} s.")
        self.retry_after = retry_after


class ShuttingDown(JobRejected):
    """The queue is closing: raised by submit() and by result() of jobs it dropped."""

    def __init__(self) -> None:
        super().__init__("The bot is restarting; please try again in a minute.")


class JobTimeout(StylebotError):
    """A job ran longer than its timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"The job took longer than {timeout:g} s and was stopped.")
        self.timeout = timeout


class JobCancelled(StylebotError):
    """A queued job was cancelled with Job.cancel() before it started."""

    def __init__(self) -> None:
        super().__init__("The job was cancelled before it started.")
