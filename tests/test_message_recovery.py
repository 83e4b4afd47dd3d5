"""Nothing accepted is lost: a message whose answer failed or whose process died is
answered by its retry, once, and delivered once."""
import asyncio
import os
import signal
import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.channels.contract import Chat, Event, Person
from bot.channels.idempotency import MessageKey, claim, finish, release
from bot.channels.service import CommunityService
from bot.db import session_scope
from bot.db.migrate import upgrade
from bot.db.models import InboundEvent
from bot.db.types import utcnow
from bot.seed import load_seed
from bot.settings import get_settings
from tests.conftest import TEST_SECRET
from tests.e2e import balance_of, post_event, private_message

LEASE = timedelta(seconds=30)


# --- the claim itself, on a real database ----------------------------------------------------

def test_a_fresh_claim_makes_a_retry_wait_and_a_stale_one_is_taken_over(session):
    start = utcnow()
    first = claim(session, MessageKey("p", "c", "m1"), start, LEASE)
    assert first.is_new
    waiting = claim(session, MessageKey("p", "c", "m1"), start + timedelta(seconds=10), LEASE)
    assert waiting.in_progress and waiting.retry_after == 20
    taken = claim(session, MessageKey("p", "c", "m1"), start + timedelta(seconds=31), LEASE)
    assert taken.is_new and taken.since > first.since
    # the presumed-dead first attempt finishes late: its answer is not stored
    assert not finish(session, MessageKey("p", "c", "m1"), {"replies": ["late"]}, first.since)
    assert finish(session, MessageKey("p", "c", "m1"), {"replies": ["new"]}, taken.since)
    done = claim(session, MessageKey("p", "c", "m1"), start + timedelta(seconds=40), LEASE)
    assert not done.is_new and done.stored_response == {"replies": ["new"]}


def test_a_released_claim_is_answered_by_the_next_retry(session):
    now = utcnow()
    first = claim(session, MessageKey("p", "c", "m2"), now, LEASE)
    release(session, MessageKey("p", "c", "m2"), first.since)
    assert claim(session, MessageKey("p", "c", "m2"), now + timedelta(seconds=1), LEASE).is_new


# --- the channel: a failing answer releases the message ----------------------------------------

class _OneNlu:
    """Stands in for the NLU model (its parse of any text); the bot itself is what fails."""

    processor = object()

    async def parse_message(self, text):
        return {"text": text, "intent": {"name": "greet", "confidence": 1.0}, "entities": []}


def test_an_answer_that_raises_is_answered_by_the_retry(db_url):
    answered = []

    async def failing_bot(message):
        raise RuntimeError("the database went away")

    async def working_bot(message):
        answered.append(message.text)
        await message.output_channel.send_response(message.sender_id, {"text": "hello"})

    event = Event(type="message", platform="testchat", chat=Chat(id="u1", type="private"),
                  sender=Person(id="u1", name="U"), message_id="retry-me", text="hi")
    settings = get_settings()
    with pytest.raises(RuntimeError):
        asyncio.run(CommunityService(settings, failing_bot, db_url).handle_event(event, _OneNlu()))
    result = asyncio.run(CommunityService(settings, working_bot, db_url).handle_event(event, _OneNlu()))
    assert result["status"] == "processed" and answered == ["hi"]
    assert [r["text"] for r in result["replies"]] == ["hello"]


# --- the real servers: SIGKILL in the middle of a message --------------------------------------

@pytest.fixture(scope="module")
def fragile_servers(trained_model, receiver, tmp_path_factory):
    from bot.runtime.servers import BotServers, free_port

    tmp_path = tmp_path_factory.mktemp("fragile")
    database = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(database)
    with session_scope(database) as session:
        load_seed(session)
    servers = BotServers(
        model=trained_model, rasa_port=free_port(), action_port=free_port(), log_dir=tmp_path / "logs",
        env={"DATABASE_URL": database, "COMMUNITY_WEBHOOK_SECRET": TEST_SECRET, "BUSINESS_HOURS": "",
             "OUTBOUND_WEBHOOKS": f"wechat={receiver.url}", "OUTBOUND_MAX_BACKOFF_SECONDS": "1",
             "MESSAGE_LEASE_SECONDS": "4", "DEFAULT_LANGUAGE": "en"})
    servers.database = database
    servers.start()
    yield servers
    for process in servers.processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGCONT)
    servers.stop()


def _child(servers, name: str):
    index = {"actions": 0, "rasa": 1}[name]
    return servers.processes[index]


def _claim_status(database: str, message_id: str):
    with session_scope(database) as session:
        return session.execute(select(InboundEvent.status).where(InboundEvent.message_id == message_id)).scalar()


def _wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def _send_in_background(servers, event):
    outcome = {}

    def send():
        try:
            outcome["answer"] = post_event(servers, event)
        except Exception as error:  # the server was killed under the request
            outcome["error"] = error

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread, outcome


def test_a_retry_while_the_message_is_answered_is_told_to_wait(fragile_servers):
    actions = _child(fragile_servers, "actions")
    event = private_message("how many points do I have?", "wx_alice", platform="wechat",
                            message_id=f"busy-{uuid.uuid4().hex}")
    os.killpg(actions.pid, signal.SIGSTOP)  # the action call hangs: the message stays in progress
    thread, outcome = _send_in_background(fragile_servers, event)
    _wait_for(lambda: _claim_status(fragile_servers.database, event["message"]["id"]) == "processing")
    status, answer = post_event(fragile_servers, event)
    assert status == 409 and answer["status"] == "in_progress" and answer["retry_after"] >= 1
    os.killpg(actions.pid, signal.SIGCONT)
    thread.join(60)
    first_status, first = outcome["answer"]
    assert first_status == 200 and first["status"] == "processed"
    again = post_event(fragile_servers, event)[1]
    assert again["status"] == "duplicate" and again["replies"] == first["replies"]


def test_sigkill_mid_message_then_a_retry_gives_one_answer_delivered_once(fragile_servers, receiver):
    message_id = f"killed-{uuid.uuid4().hex}"
    event = private_message("how many points do I have?", "wx_alice", platform="wechat", message_id=message_id)
    actions, rasa = _child(fragile_servers, "actions"), _child(fragile_servers, "rasa")
    os.killpg(actions.pid, signal.SIGSTOP)
    thread, outcome = _send_in_background(fragile_servers, event)
    _wait_for(lambda: _claim_status(fragile_servers.database, message_id) == "processing")
    os.killpg(rasa.pid, signal.SIGKILL)  # dies holding the claim, before any answer was stored
    rasa.wait(10)
    thread.join(30)
    assert "error" in outcome or outcome["answer"][0] >= 500
    os.killpg(actions.pid, signal.SIGCONT)
    fragile_servers.stop()
    fragile_servers.start()

    status, answer = post_event(fragile_servers, event)  # the platform retries the same message id
    assert status == 200 and answer["status"] == "processed", answer
    assert balance_of(fragile_servers.database, "M100001") in " ".join(r["text"] for r in answer["replies"])
    again = post_event(fragile_servers, event)[1]
    assert again["status"] == "duplicate" and again["replies"] == answer["replies"]
    receiver.wait_for(lambda got: len([m for m in got if m.get("in_reply_to") == message_id])
                      >= len(answer["replies"]))
    time.sleep(1.5)
    delivered = [m for m in receiver.received if m.get("in_reply_to") == message_id]
    assert len(delivered) == len(answer["replies"])
