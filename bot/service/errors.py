"""The service's errors: each user-facing sentence mapped to an HTTP status code."""

from __future__ import annotations

from bot.errors import (
    AssetError,
    ConfigError,
    EngineError,
    ImageError,
    ImageTooLarge,
    StylebotError,
    UnknownPreset,
)

NOT_ANSWERING = "The painting service is not answering; please try again in a minute."
BUSY = "The painting service is busy; please try again in a few seconds."
PAINTER_LOST = "The painter stopped while painting; please try again."
UNEXPECTED = "The painting service failed unexpectedly; please try again later."


class BadForm(StylebotError):
    """A stylize form that is missing a part, repeats one, or has a value out of range (400)."""


class RequestTooLarge(ImageTooLarge):
    """A request body or one of its files over the byte limit (413)."""


class ServiceBusy(StylebotError):
    """Every replica is painting and the queue is full (503 with Retry-After)."""

    def __init__(self, retry_after: float, message: str = BUSY) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(StylebotError):
    """The service did not answer, or answered with a server error, after every retry."""


# Most specific first: the first class the error is an instance of gives the status.
_STATUS: tuple[tuple[type[StylebotError], int], ...] = (
    (ImageTooLarge, 413),
    (ServiceBusy, 503),
    (ServiceUnavailable, 503),
    (AssetError, 503),  # a model file or preset image could not be fetched now: try again
    (ConfigError, 500),
    (BadForm, 400),
    (UnknownPreset, 400),
    (ImageError, 400),
    (EngineError, 400),  # the engine's sentences are about the request: strength, weights
)


def status_for(error: StylebotError) -> int:
    """The HTTP status for a user-facing error: 4xx for the user's input, 5xx for the service."""
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400


def error_body(message: str) -> dict[str, str]:
    """The JSON body of every error answer: the one sentence the CLI would print."""
    return {"error": message}
