"""Bounded FIFO job queue that runs blocking work in an executor without blocking the event loop."""

from bot.jobs.errors import (
    JobCancelled,
    JobRejected,
    JobTimeout,
    OnCooldown,
    QueueFull,
    ShuttingDown,
    UserBusy,
)
from bot.jobs.job import Job, PositionCallback
from bot.jobs.queue import JobQueue

__all__ = [
    "Job",
    "JobCancelled",
    "JobQueue",
    "JobRejected",
    "JobTimeout",
    "OnCooldown",
    "PositionCallback",
    "QueueFull",
    "ShuttingDown",
    "UserBusy",
]
