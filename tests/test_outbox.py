"""The outbox keeps messages until delivered: across failures and across a restart."""
import asyncio
import socket
from datetime import timedelta

from sqlalchemy import select, update

from bot.channels.dispatcher import OutboundDispatcher
from bot.channels.outbound import backoff, enqueue
from bot.db import session_scope
from bot.db.models import OutboundMessage
from bot.db.types import utcnow
from bot.settings import Settings
from tests.receiver import Receiver

SECRET = "outbox-secret"


def settings_for(url: str) -> Settings:
    return Settings(webhook_secret=SECRET, outbound_webhooks={"testchat": url}, outbound_max_backoff_seconds=60)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/outbound"


async def one_pass(settings: Settings, db_url: str) -> int:
    dispatcher = OutboundDispatcher(settings, db_url=db_url)
    await dispatcher.open()
    try:
        return await dispatcher.deliver_due()
    finally:
        await dispatcher.stop()


async def concurrent_passes(settings: Settings, db_url: str, count: int) -> int:
    dispatchers = [OutboundDispatcher(settings, db_url=db_url) for _ in range(count)]
    for dispatcher in dispatchers:
        await dispatcher.open()
    try:
        return sum(await asyncio.gather(*(d.deliver_due() for d in dispatchers)))
    finally:
        for dispatcher in dispatchers:
            await dispatcher.stop()


def make_due(db_url: str) -> None:
    with session_scope(db_url) as session:
        session.execute(update(OutboundMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def test_messages_survive_a_failed_delivery_and_a_restart(db_url):
    with session_scope(db_url) as session:
        enqueue(session, "testchat", [{"text": "one"}, {"text": "two"}], settings_for("http://unused"))
    down = settings_for(closed_port_url())
    assert asyncio.run(one_pass(down, db_url)) == 0  # receiver down: nothing lost
    with session_scope(db_url) as session:
        rows = session.execute(select(OutboundMessage)).scalars().all()
        # the second waits behind the first, so the chat keeps its order
        assert [(r.status, r.attempts) for r in rows] == [("pending", 1), ("pending", 0)]
        assert "ClientConnectorError" in rows[0].last_error

    receiver = Receiver(SECRET)  # back up, and a new dispatcher as after a restart
    try:
        make_due(db_url)
        assert asyncio.run(one_pass(settings_for(receiver.url), db_url)) == 2
        assert [m["text"] for m in receiver.received] == ["one", "two"]
        assert receiver.rejected_signatures == 0
        assert asyncio.run(one_pass(settings_for(receiver.url), db_url)) == 0  # never twice
    finally:
        receiver.close()


def test_backoff_grows_and_is_capped():
    assert [backoff(n, 60).total_seconds() for n in (1, 2, 3, 7, 20)] == [1, 2, 4, 60, 60]


def test_platforms_without_a_webhook_are_not_queued(db_url):
    with session_scope(db_url) as session:
        enqueue(session, "elsewhere", [{"text": "x"}], settings_for("http://unused"))
        assert session.execute(select(OutboundMessage)).scalars().all() == []


def test_two_dispatchers_never_deliver_a_message_twice(db_url):
    receiver = Receiver(SECRET)
    try:
        with session_scope(db_url) as session:
            enqueue(session, "testchat", [{"text": str(n)} for n in range(20)], settings_for(receiver.url))
        assert asyncio.run(concurrent_passes(settings_for(receiver.url), db_url, 3)) == 20
        assert sorted(int(m["text"]) for m in receiver.received) == list(range(20))
    finally:
        receiver.close()


def test_a_chat_gets_its_messages_in_order_even_after_a_failure(db_url):
    receiver = Receiver(SECRET)
    try:
        with session_scope(db_url) as session:
            enqueue(session, "testchat", [{"text": str(n), "destination": {"type": "group", "chat_id": "g"}}
                                          for n in range(6)], settings_for(receiver.url))
        receiver.fail_next = 1  # the first post fails: nothing behind it may overtake it
        assert asyncio.run(one_pass(settings_for(receiver.url), db_url)) == 0
        make_due(db_url)
        assert asyncio.run(one_pass(settings_for(receiver.url), db_url)) == 6
        assert [m["text"] for m in receiver.received] == [str(n) for n in range(6)]
    finally:
        receiver.close()


def test_a_failing_group_does_not_hold_up_the_others(db_url):
    receiver = Receiver(SECRET)
    receiver.failing_chats = {"broken"}
    try:
        with session_scope(db_url) as session:
            enqueue(session, "testchat", [{"text": f"{chat}-{n}", "destination": {"type": "group", "chat_id": chat}}
                                          for n in range(3) for chat in ("broken", "fine")],
                    settings_for(receiver.url))
        assert asyncio.run(one_pass(settings_for(receiver.url), db_url)) == 3
        assert [m["text"] for m in receiver.received] == ["fine-0", "fine-1", "fine-2"]
    finally:
        receiver.close()
