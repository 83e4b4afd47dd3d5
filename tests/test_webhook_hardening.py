"""The signed webhook refuses replays and malformed requests with a 4xx that names the
problem; ids cannot be crafted to share someone else's conversation."""
import json
import time
import uuid

import pytest

from bot.channels.contract import BadRequest, parse_event, sign, signed_headers, verify_signature
from bot.channels.routing import group_conversation_id, private_conversation_id
from tests.conftest import TEST_SECRET
from tests.e2e import group_message, post_event, private_message


def fresh(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def join_event(chat: str, event_id=None, names=("Dora",)):
    event = {"type": "member_joined", "platform": "testchat", "chat": {"id": chat, "type": "group"},
             "members": [{"id": fresh("j"), "name": name} for name in names]}
    if event_id is not None:
        event["event_id"] = event_id
    return event


# --- replay protection -------------------------------------------------------------------------

def test_a_signature_without_timestamp_is_refused(bot_servers):
    event = private_message("hello", fresh("u"))
    body = json.dumps(event).encode()
    status, answer = post_event(bot_servers, event, raw=body, signature=sign(body, TEST_SECRET))
    assert status == 401 and "X-Timestamp" in answer["error"]


def test_a_captured_request_replayed_later_is_refused(bot_servers):
    event = private_message("hello", fresh("u"))
    status, answer = post_event(bot_servers, event, timestamp=time.time() - 301)
    assert status == 401 and "301 s old" in answer["error"]
    status, answer = post_event(bot_servers, event, timestamp=time.time() + 400)
    assert status == 401 and "in the future" in answer["error"]
    assert post_event(bot_servers, event, timestamp=time.time() - 240)[0] == 200  # within ±5 minutes


def test_a_fresh_timestamp_on_an_old_signature_is_refused(bot_servers):
    event = private_message("hello", fresh("u"))
    body = json.dumps(event).encode()
    old = signed_headers(body, TEST_SECRET, now=time.time() - 600)
    status, answer = post_event(bot_servers, event, raw=body, signature=old["X-Signature"], timestamp=time.time())
    assert status == 401 and "bad X-Signature" in answer["error"]


def test_member_joined_needs_an_event_id_and_a_replay_welcomes_once(bot_servers, receiver):
    chat = fresh("g-join")
    status, answer = post_event(bot_servers, join_event(chat))
    assert status == 400 and answer["field"] == "event_id"
    event = join_event(chat, event_id=fresh("join"), names=("Dora",))
    first, again = post_event(bot_servers, event)[1], post_event(bot_servers, event)[1]
    assert first["status"] == "processed" and again["status"] == "duplicate"
    receiver.wait_for(lambda got: any(m["destination"].get("chat_id") == chat for m in got))
    time.sleep(1)
    assert len([m for m in receiver.received if m["destination"].get("chat_id") == chat]) == 1


def test_legacy_signatures_only_when_the_setting_says_so():
    body = b'{"type": "message"}'
    with pytest.raises(BadRequest) as refused:
        verify_signature(body, sign(body, "s"), None, "s")
    assert refused.value.status == 401
    verify_signature(body, sign(body, "s"), None, "s", accept_legacy=True)  # no exception
    join = json.dumps(join_event("g")).encode()
    with pytest.raises(BadRequest):
        parse_event(join, 2000)
    assert parse_event(join, 2000, require_event_id=False).message_id is None


# --- conversation ids --------------------------------------------------------------------------

def test_colons_in_ids_cannot_merge_two_peoples_conversations():
    assert group_conversation_id("p", "a:b", "c") != group_conversation_id("p", "a", "b:c")
    assert private_conversation_id("wechat", "private:x") != private_conversation_id("wechat:private", "x")
    assert private_conversation_id("wechat", "wx_alice") == "wechat:private:wx_alice"  # plain ids unchanged
    assert group_conversation_id("p", "a%3Ab", "c") != group_conversation_id("p", "a:b", "c")


def test_crafted_ids_get_their_own_conversation_end_to_end(bot_servers):
    suffix = uuid.uuid4().hex[:6]
    victim = group_message("what are my points", "b:" + suffix, chat="a", platform="testchat")
    attacker = group_message("hello", suffix, chat="a:b", platform="testchat")
    _, first = post_event(bot_servers, victim)
    _, second = post_event(bot_servers, attacker)
    assert first["conversation_id"] != second["conversation_id"]
    assert "member code" not in " ".join(r["text"] for r in second["replies"])


# --- malformed requests ------------------------------------------------------------------------

@pytest.mark.parametrize("body, expected", [
    (b"[" * 30000 + b"]" * 30000, "nested too deeply"),
    (b'{"type": "message", "platform": ' + b"9" * 5000 + b"}", "out of range"),
    (b"[]", "JSON object"),
    (b'"just a string"', "JSON object"),
    (b"\xff\xfe", "not valid JSON"),
], ids=["deeply-nested", "huge-integer", "array", "string", "not-utf8"])
def test_unparseable_bodies_get_400(bot_servers, body, expected):
    status, answer = post_event(bot_servers, {}, raw=body)
    assert status in (400, 413) and expected in answer["error"], answer


def _message_with(**changes):
    event = private_message("hello", fresh("u"))
    for path, value in changes.items():
        target = event
        *parents, last = path.split("__")
        for key in parents:
            target = target[key]
        target[last] = value
    return event


@pytest.mark.parametrize("changes, field", [
    ({"platform": "p" * 33}, "platform"),
    ({"platform": 42}, "platform"),
    ({"platform": "we chat"}, "platform"),
    ({"sender__id": ["a", "b"]}, "sender.id"),
    ({"sender__id": {"id": 1}}, "sender.id"),
    ({"sender__id": 1.5}, "sender.id"),
    ({"sender__id": True}, "sender.id"),
    ({"sender__id": 10 ** 200}, "sender.id"),
    ({"sender__name": 7}, "sender.name"),
    ({"chat__id": "x" * 129}, "chat.id"),
    ({"chat": ["group"]}, "chat"),
    ({"message": "hello"}, "message"),
    ({"message__text": 12}, "message.text"),
    ({"message__text": "nul \x00 inside"}, "message.text"),
    ({"message__text": "lone \ud800 surrogate"}, "message.text"),
    ({"message__id": "  "}, "message.id"),
    ({"message__mentions_bot": "yes"}, "message.mentions_bot"),
    ({"sender": "wx_alice"}, "sender"),
])
def test_wrong_types_and_sizes_get_400_naming_the_field(bot_servers, changes, field):
    body = json.dumps(_message_with(**changes)).encode()  # ASCII escapes keep a lone surrogate as JSON has it
    status, answer = post_event(bot_servers, {}, raw=body)
    assert status == 400 and answer.get("field") == field, answer


def test_numeric_ids_are_accepted_as_platforms_send_them(bot_servers):
    event = _message_with(sender__id=123456789, chat__id=123456789, message__id=987654321)
    status, answer = post_event(bot_servers, event)
    assert status == 200 and answer["status"] == "processed"


def test_message_ids_are_unique_per_chat_not_per_platform(bot_servers):
    """Telegram numbers messages per chat: the same id in two chats is two messages."""
    shared_id = fresh("42")
    first = private_message("how many points do I have?", fresh("userA"), message_id=shared_id)
    second = private_message("hello", fresh("userB"), message_id=shared_id)
    _, a = post_event(bot_servers, first)
    _, b = post_event(bot_servers, second)
    assert a["status"] == b["status"] == "processed"
    assert a["conversation_id"] != b["conversation_id"] and b["replies"] != a["replies"]
    join = join_event(second["chat"]["id"], event_id=shared_id)
    join["chat"] = {"id": first["chat"]["id"], "type": "group"}
    assert post_event(bot_servers, join)[1]["status"] in ("processed", "batched")  # a join is not a message
