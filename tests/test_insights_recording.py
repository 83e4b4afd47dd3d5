"""Every inbound message is recorded with what became of it (bot/insights/recording.py),
in the same transaction as its answer; only misunderstood messages keep their (masked) text."""
import uuid

from bot.db import session_scope
from bot.db.models import GroupJoin, MessageRecord
from bot.insights.recording import masked, normalize, outcome_of
from tests.e2e import group_message, post_event, private_message


def fresh(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def records(database: str, user: str):
    with session_scope(database) as session:
        rows = session.query(MessageRecord).filter_by(user_id=user).order_by(MessageRecord.id).all()
        session.expunge_all()
        return rows


def test_personal_data_is_masked_and_texts_group_together():
    assert masked("my code is M100001, order A10023, phone 13812345678") == \
        "my code is M1••••1, order A•••••, phone •••••••••••"
    assert normalize("Do you ship to Hong Kong?") == normalize("do you ship to  hong kong") == "do you ship to hong kong"
    assert normalize("A10023 到哪了？") == normalize("a10099 到哪了")
    assert normalize("ＡＢＣ！") == "abc"


def test_the_outcome_follows_what_the_bot_did():
    assert outcome_of(["utter_greet"], "greet") == "answered"
    assert outcome_of(["utter_ask_rephrase"], "nlu_fallback") == "fallback"
    assert outcome_of(["utter_ticket_complain", "utter_handoff_queued"], "complain") == "ticket"
    assert outcome_of(["utter_link_intro", "utter_ask_member_code"], "check_points") == "linking"
    assert outcome_of(["utter_offer_human_after_error"], "check_points") == "failed"


def test_messages_are_recorded_with_their_outcome(bot_servers, servers_db):
    user = fresh("rec")
    post_event(bot_servers, private_message("hello", user))
    post_event(bot_servers, private_message("the purple giraffe plays chess with my 13812345678 phone", user))
    post_event(bot_servers, private_message("/request_human", user))
    post_event(bot_servers, private_message("are you there?", user))
    rows = records(servers_db, user)
    assert [row.outcome for row in rows] == ["answered", "fallback", "ticket", "agent"]
    greet, unclear, ticket, waiting = rows
    assert (greet.intent, greet.chat_type, greet.addressed, greet.text) == ("greet", "private", True, None)
    assert greet.language == "en" and greet.conversation_id == f"testchat:private:{user}"
    assert unclear.intent == "nlu_fallback" and "13812345678" not in unclear.text and "•" in unclear.text
    assert unclear.normalized and "#" in unclear.normalized
    assert ticket.response and ticket.response.startswith("utter_handoff")


def test_group_messages_not_for_the_bot_are_counted_without_text(bot_servers, servers_db):
    user = fresh("grp")
    post_event(bot_servers, group_message("lovely weather today everyone", user, chat="g-insights", mention=False))
    rows = records(servers_db, user)
    assert len(rows) == 1 and (rows[0].chat_type, rows[0].chat_id) == ("group", "g-insights")
    assert (rows[0].outcome, rows[0].addressed, rows[0].text) == ("ignored", False, None)


def test_a_retried_message_is_recorded_once(bot_servers, servers_db):
    user = fresh("retry")
    event = private_message("hello", user)
    post_event(bot_servers, event)
    assert post_event(bot_servers, event)[1]["status"] == "duplicate"
    assert len(records(servers_db, user)) == 1


def test_group_joins_are_recorded(bot_servers, servers_db):
    chat = fresh("joinchat")
    event = {"type": "member_joined", "platform": "testchat", "event_id": fresh("join"),
             "chat": {"id": chat, "type": "group"},
             "members": [{"id": "j1", "name": "J One"}, {"id": "j2", "name": "J Two"}]}
    status, body = post_event(bot_servers, event)
    assert status == 200, body
    with session_scope(servers_db) as session:
        assert sorted(row.user_id for row in session.query(GroupJoin).filter_by(chat_id=chat)) == ["j1", "j2"]
