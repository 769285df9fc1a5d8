"""User-facing errors: each carries one sentence that is safe to show to a user."""


class StylebotError(Exception):
    """Base for every error whose message is a single user-facing sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ImageError(StylebotError):
    """An input image is unreadable, of an unsupported kind, or breaks a limit."""


class ImageTooLarge(ImageError):
    """An input image exceeds the byte or pixel limit."""


class AssetError(StylebotError):
    """A model file or preset image could not be found, fetched or verified."""


class UnknownPreset(StylebotError):
    """A preset name matched no preset; the message lists close matches."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"There is no preset called “{name}”.{hint}")
        self.name = name
        self.suggestions = suggestions


class EngineError(StylebotError):
    """The stylization engine failed or was asked for something it cannot do."""


class ConfigError(StylebotError):
    """A configuration file or environment value is invalid."""


class UsageError(StylebotError):
    """Command-line arguments that parse but make no sense together (exit code 2)."""
