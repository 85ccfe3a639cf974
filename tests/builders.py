"""Domain builders shared by the service, triage and end-to-end tests: who acts, what a
customer writes, what the outbox holds."""

from __future__ import annotations

from sqlmodel import col, select

from services.types import Actor, CustomerIdentity, InboundMessage
from storage.engine import SessionFactory
from storage.models import OutboxItem

AGENT = Actor(id="UAGENT", name="agnes", is_agent=True)
STRANGER = Actor(id="USTRANGER", name="sam", is_agent=False)
_counter = iter(range(1, 1_000_000))


def slack_message(text: str, user: str = "UCUST", *, ts: str | None = None) -> InboundMessage:
    ts = ts or f"1700000000.{next(_counter):06d}"
    return InboundMessage(
        source="slack",
        external_id=f"CINTAKE:{ts}",
        body=text,
        customer=CustomerIdentity(name="carol", slack_user_id=user),
        origin_channel="CINTAKE",
        origin_thread_ts=ts,
    )


def email_message(body: str, message_id: str, **extra: object) -> InboundMessage:
    return InboundMessage(
        source="email",
        external_id=message_id,
        body=body,
        customer=CustomerIdentity(name="Carol", email="carol@example.org"),
        **extra,  # type: ignore[arg-type]
    )


async def outbox_kinds(sessions: SessionFactory, case_id: int) -> list[str]:
    async with sessions() as session:
        rows = await session.exec(
            select(OutboxItem).where(OutboxItem.case_id == case_id).order_by(col(OutboxItem.id))
        )
        return [row.kind for row in rows]


# Support questions unrelated to one another (and to any storm), for the storm tests.
UNRELATED = [
    "How do I change the email address on my account?",
    "I was charged twice for the same hotel booking",
    "My card was stolen on the train this morning",
    "Can I get a refund for the concert tickets?",
    "Why is there a fee on my ATM withdrawal?",
    "I forgot my password and the reset email never comes",
    "Please delete all the personal data you hold about me",
    "My lawyer will be in touch about the contract dispute",
    "The exchange rate on my payment in yen looks wrong",
    "How long does delivery of a new card take?",
    "Can I open a joint account with my partner?",
    "Your invoice PDF shows the wrong VAT number",
    "The export to CSV button does nothing in Firefox",
    "I need a copy of last year's statements for my taxes",
    "Is there a student discount on the premium plan?",
    "My direct debit to the gym was taken twice",
    "Can I pay my rent with a credit card through you?",
    "The verification of my passport keeps failing",
    "How do I add my card to Google Pay?",
    "What is the daily limit for cash withdrawals abroad?",
    "My salary has not arrived although my employer sent it",
    "I want to close my account and move my savings",
    "Notifications stopped arriving after the last update",
    "Which countries can I send money to?",
    "Someone is pretending to be your staff on the phone",
    "My PIN is blocked after three wrong tries",
    "The cashback from last month is missing",
    "Can you increase my overdraft limit?",
    "How do I dispute a purchase from an online shop that never shipped?",
    "I moved to Spain, how do I update my address?",
    "The ATM kept my card at the airport",
    "Do you support Apple Pay on a watch?",
    "How can I order a metal card?",
    "My business account needs a second user",
    "The interest rate on my savings changed without notice",
    "I received a refund but it is less than I paid",
    "Why was my top-up by bank transfer declined?",
    "Can I freeze my card temporarily?",
    "Your chatbot gave me wrong information about fees",
    "How do I get a certificate of account ownership?",
    "The statement shows a shop I have never heard of",
    "I need to report a change of name after my wedding",
    "What documents do I need to prove my source of funds?",
    "Is my money protected if your company goes bankrupt?",
    "Contactless payments fail at every supermarket",
    "I want to complain formally about how I was treated",
    "Can I schedule a payment for next Friday?",
    "My virtual card is rejected by the airline website",
    "How do I set up a standing order for my savings?",
    "The app shows my balance in dollars instead of euros",
]
