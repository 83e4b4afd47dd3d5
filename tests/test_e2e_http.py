"""End to end: the real action server and Rasa server, spoken to over HTTP."""
import uuid

from sqlalchemy import select

from bot.db import session_scope
from bot.db.models import ChatIdentity, Order, Ticket
from bot.loyalty.members import find_member_by_code
from tests.e2e import balance_of, say, texts


def fresh(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_linked_member_gets_their_real_balance(bot_servers, servers_db):
    reply = texts(say(bot_servers, "wx_alice", "how many points do I have?"))
    assert balance_of(servers_db, "M100001") in reply
    assert "Alice Chen" in reply and "points" in reply


def test_chinese_member_gets_balance_in_chinese(bot_servers, servers_db):
    reply = texts(say(bot_servers, "wx_wangfang", "我有多少积分？"))
    assert balance_of(servers_db, "M100002") in reply
    assert "积分" in reply and "王芳" in reply


def test_saved_language_preference_wins(bot_servers, servers_db):
    # 王芳 saved Chinese as her language: an English question still gets Chinese.
    reply = texts(say(bot_servers, "wx_wangfang", "how many points do I have"))
    assert "积分" in reply and balance_of(servers_db, "M100002") in reply


def test_own_order_is_shown_with_details(bot_servers):
    reply = texts(say(bot_servers, "wx_alice", "where is my order A10001?"))
    assert "A10001" in reply and "Down puffer jacket" in reply


def test_another_members_order_is_refused(bot_servers, servers_db):
    with session_scope(servers_db) as session:
        alice = find_member_by_code(session, "M100001")
        other = session.execute(select(Order).where(Order.member_id != alice.id)).scalars().first()
        number, item_name = other.number, other.items[0].names["en"]
    reply = texts(say(bot_servers, "wx_alice", f"where is order {number}"))
    assert "can't find" in reply and number in reply
    assert item_name not in reply


def test_order_number_inside_chinese_text(bot_servers):
    reply = texts(say(bot_servers, "wx_wangfang", "A10002这单发了没"))
    assert "A10002" in reply and "订单" in reply


def test_unlinked_user_links_then_sees_points(bot_servers, servers_db):
    user = fresh("wx_new")
    first = texts(say(bot_servers, user, "how many points do i have"))
    assert "member code" in first
    assert "phone" in texts(say(bot_servers, user, "M100004"))
    done = texts(say(bot_servers, user, "1357"))
    # 李娜 saved Chinese as her language, so from here on she is answered in Chinese.
    assert "已与此对话绑定" in done and balance_of(servers_db, "M100004") in done
    with session_scope(servers_db) as session:
        identity = session.execute(select(ChatIdentity).where(
            ChatIdentity.platform_user_id == user)).scalar_one()
        assert identity.member.code == "M100004"


def test_wrong_answers_are_limited_and_show_no_data(bot_servers, servers_db):
    user = fresh("wx_guess")
    say(bot_servers, user, "我的积分还有多少")
    replies = []
    for _ in range(3):
        say(bot_servers, user, "M100004")
        replies.append(texts(say(bot_servers, user, "0000")))
    assert "2" in replies[0] and "1" in replies[1]
    assert "暂停" in replies[2]
    assert balance_of(servers_db, "M100004") not in "".join(replies)


def test_anonymous_promotions_mention_member_offers(bot_servers):
    reply = texts(say(bot_servers, fresh("wx_anon"), "any promotions?"))
    assert "Winter sale" in reply and "Members may see more" in reply
    assert "Platinum" not in reply


def test_two_unclear_messages_offer_a_person_who_is_queued(bot_servers, servers_db):
    user = fresh("wx_lost")
    assert "another way" in texts(say(bot_servers, user, "what's the weather like on mars"))
    offer = say(bot_servers, user, "tell me a joke about penguins")
    assert any(message.get("buttons") for message in offer)
    queued = texts(say(bot_servers, user, "yes please"))
    assert "queue" in queued
    with session_scope(servers_db) as session:
        ticket = session.execute(select(Ticket).where(Ticket.user_id == user)).scalar_one()
        assert ticket.reason == "fallback" and ticket.language == "en" and ticket.status == "open"
        assert [m.text for m in ticket.messages if m.author == "customer"][:2] == [
            "what's the weather like on mars", "tell me a joke about penguins"]
    # A person has the conversation now: the bot stays silent.
    assert say(bot_servers, user, "hello?") == []


def test_customer_switching_language_gets_the_new_language(bot_servers):
    user = fresh("wx_switch")
    assert "Hi!" in texts(say(bot_servers, user, "hello"))
    assert "您好" in texts(say(bot_servers, user, "你好"))
    assert "bot" in texts(say(bot_servers, user, "are you a bot?"))
