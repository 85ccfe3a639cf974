"""The words email customers read; plain text (compose.py adds the escaped HTML part)."""

from __future__ import annotations


def acknowledgement(number: int, name: str, subject: str) -> str:
    return (
        f"Hello {name or 'there'},\n\n"
        f"thanks for contacting us. We have opened case #{number} for your request:\n\n"
        f"    {subject}\n\n"
        "An agent will answer by email. To add details, simply reply to this message "
        f"(please keep [Case #{number}] in the subject).\n\n"
        "Support"
    )


def agent_reply(text: str, signature: str) -> str:
    return f"{text.strip()}\n\n{signature}"


def resolution(number: int, reopen_days: float, rating_links: dict[int, str] | None = None) -> str:
    question = ""
    if rating_links:
        question = (
            "How did we do? One click rates it, from 1 (poor) to 5 (great):\n"
            + "".join(f"  {score}  {url}\n" for score, url in sorted(rating_links.items()))
            + "\n"
        )
    return (
        "Hello,\n\n"
        f"case #{number} has been resolved. If something is still not right, reply to this "
        f"email within {reopen_days:g} days and we will pick it up again.\n\n"
        f"{question}"
        "Support"
    )


def nudge(number: int, name: str, subject: str) -> str:
    return (
        f"Hello {name or 'there'},\n\n"
        f"about case #{number}:\n\n"
        f"    {subject}\n\n"
        "we asked you a question in our last message and need your answer to go on. "
        "Simply reply to this message.\n\n"
        "Support"
    )


def reminder(number: int, name: str, subject: str) -> str:
    return (
        f"Hello {name or 'there'},\n\n"
        f"we have not forgotten case #{number}:\n\n"
        f"    {subject}\n\n"
        "It is still open and an agent is working on it. If there is anything to add, "
        "simply reply to this message.\n\n"
        "Support"
    )
