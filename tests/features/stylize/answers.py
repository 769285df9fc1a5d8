"""Which bot message answered which `!stylize` request: replies, and folded refusals that name
several users ("<@1> (×2) and <@2>: The queue is full ...") in a busy channel."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tests.fakediscord import SentMessage

STATUS = re.compile(r"^(⏳ You're number \d+ in the queue\.|🎨 Painting…)$")
NAME = re.compile(r"<@!?(\d+)>(?: \(×(\d+)\))?")
FOLDED = re.compile(r"^(<@!?\d+>(?: \(×\d+\))?(?:, | and ))*<@!?\d+>(?: \(×\d+\))?: ")


@dataclass(frozen=True)
class Asked:
    """One request: its message id, author and channel."""

    message_id: int
    user_id: int
    channel_id: int


def folded_counts(content: str) -> dict[int, int]:
    """{user id: how many of their requests} a folded message answers ({} if not folded)."""
    if not FOLDED.match(content):
        return {}
    head = content.split(": ", 1)[0]
    return {int(user): int(times or 1) for user, times in NAME.findall(head)}


def sentence(content: str) -> str:
    """The sentence of an answer, without the names a folded one starts with."""
    return FOLDED.sub("", content)


def answers(messages: Iterable[SentMessage], asked: list[Asked]) -> dict[int, list[SentMessage]]:
    """Answers per request id: a painting or sentence replying to it (not a status line), and
    folded messages, each given to the latest requests of the users it names (in its channel,
    sent before it, without a reply) as many times as it counts them."""
    found: dict[int, list[SentMessage]] = {a.message_id: [] for a in asked}
    folds: list[SentMessage] = []
    for message in messages:
        if message.reply_to in found:
            if message.files or not STATUS.match(message.content or ""):
                found[message.reply_to].append(message)
        elif message.reply_to is None and not message.files and folded_counts(
                message.content or ""):
            folds.append(message)
    for fold in folds:
        for user_id, times in folded_counts(fold.content or "").items():
            mine = sorted((a for a in asked if a.user_id == user_id
                           and a.channel_id == fold.channel_id
                           and a.message_id < (fold.message_id or 0)
                           and not found[a.message_id]), key=lambda a: -a.message_id)
            for a in mine[:times]:
                found[a.message_id].append(fold)
    return found
