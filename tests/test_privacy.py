"""Personal data stays private: member offers, linking under attack, what agents see, and
how long reply texts are kept."""
import uuid
from datetime import timedelta

from sqlalchemy import select

from bot.channels.retention import purge
from bot.db.models import AuditEntry, ChatIdentity, InboundEvent, Member, OutboundMessage
from bot.db.types import utcnow
from bot.db import session_scope
from bot.handoff.masking import mask_text
from bot.loyalty.linking import ALERT_CODE_LOCKED, ALERT_NEW_LINK, LINKED, LOCKED, LinkPolicy, attempt_link
from tests.conftest import NOW
from tests.e2e import agent_api, agent_token, find_ticket, group_message, post_event, private_message


def fresh(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def texts_to(result, kind):
    return [r["text"] for r in result["replies"] if r["destination"]["type"] == kind]


# --- promotions in a group ---------------------------------------------------------------------

def test_a_group_sees_only_promotions_open_to_everyone(bot_servers):
    _, result = post_event(bot_servers, group_message("any promotions?", "wx_alice", name="Alice", platform="wechat",
                                                      chat=fresh("g-promo")))
    group, private = " ".join(texts_to(result, "group")), " ".join(texts_to(result, "private"))
    assert "Winter sale" in group or "冬季大促" in group  # open to everyone: in the group
    assert "Double points for Gold" not in group and "双倍积分" not in group  # tells the group her tier
    assert "Double points for Gold" in private or "双倍积分" in private  # her own offer, privately
    assert "私信" in group  # the group is told where the rest went


def test_an_anonymous_group_member_still_gets_the_public_list(bot_servers):
    _, result = post_event(bot_servers, group_message("any promotions?", fresh("anon"), chat=fresh("g-promo")))
    assert texts_to(result, "private") == []
    assert any("Winter sale" in text or "冬季大促" in text for text in texts_to(result, "group"))


# --- linking: limits per member code and alerts to the member's chats --------------------------

POLICY = LinkPolicy(max_attempts=3, lock_minutes=30, code_max_failures=5, code_window_minutes=60)


def _member(session, code):
    return session.execute(select(Member).where(Member.code == code)).scalar_one()


def test_wrong_answers_from_many_chats_lock_the_member_code(seeded_session):
    alice = _member(seeded_session, "M100001")
    results = [attempt_link(seeded_session, "testchat", f"guesser{i}", "M100001", "0000",
                            NOW + timedelta(minutes=i), POLICY) for i in range(5)]
    assert [r.outcome for r in results[:4]] == ["wrong"] * 4  # each chat alone is far from its own limit
    assert results[4].outcome == LOCKED and results[4].alert == ALERT_CODE_LOCKED
    assert results[4].alert_member.id == alice.id
    right = attempt_link(seeded_session, "testchat", "guesser-lucky", "M100001", alice.phone[-4:],
                         NOW + timedelta(minutes=6), POLICY)
    assert right.outcome == LOCKED  # even the right digits wait while the code is under attack
    later = attempt_link(seeded_session, "testchat", "guesser-lucky", "M100001", alice.phone[-4:],
                         NOW + timedelta(minutes=70), POLICY)
    assert later.outcome == LINKED and later.alert == ALERT_NEW_LINK


def new_member(database: str, linked_as: str = None):
    """A member of our own for one test (the shared database's demo members get linked by
    other tests), a bronze member with no tags, linked to the wechat user `linked_as` if
    given: returns (member code, last four phone digits)."""
    import random
    from datetime import date

    with session_scope(database) as session:
        while True:
            code = f"M9{random.randint(0, 99999):05d}"
            if session.execute(select(Member).where(Member.code == code)).scalar() is None:
                break
        phone = f"139{random.randint(0, 99999999):08d}"
        member = Member(code=code, name="Test Member", phone=phone, tier="bronze", tags=[], language="en",
                        joined_on=date(2025, 1, 1))
        session.add(member)
        if linked_as:
            session.add(ChatIdentity(platform="wechat", platform_user_id=linked_as, member=member, linked_at=utcnow()))
    return code, phone[-4:]


def test_guesses_spread_over_many_codes_meet_the_hourly_budget(seeded_session):
    policy = LinkPolicy(max_attempts=3, lock_minutes=30, code_max_failures=5, code_window_minutes=60,
                        max_failures_per_hour=12)
    codes = [f"M1000{i:02d}" for i in range(1, 13)]
    for i, code in enumerate(codes):  # one wrong answer per code, each from a new chat: no other limit trips
        assert attempt_link(seeded_session, "testchat", f"spread{i}", code, "0000", NOW, policy).outcome == "wrong"
    alice = _member(seeded_session, "M100001")
    paused = attempt_link(seeded_session, "testchat", "spread-next", "M100001", alice.phone[-4:], NOW, policy)
    assert paused.outcome == LOCKED and paused.locked_until == NOW + timedelta(hours=1)
    later = attempt_link(seeded_session, "testchat", "spread-next", "M100001", alice.phone[-4:],
                         NOW + timedelta(minutes=61), policy)
    assert later.outcome == LINKED


def test_a_locked_code_and_a_new_link_are_told_to_the_members_chats(bot_servers, receiver):
    code, digits = new_member(bot_servers.env["DATABASE_URL"])
    first, second = fresh("first"), fresh("second")
    for user, answer in ((first, digits),):
        post_event(bot_servers, private_message("link my account", user))
        post_event(bot_servers, private_message(code, user))
        post_event(bot_servers, private_message(answer, user))
    post_event(bot_servers, private_message("link my account", second))
    post_event(bot_servers, private_message(code, second))
    post_event(bot_servers, private_message(digits, second))  # someone else links the same membership
    alerts = receiver.wait_for(lambda got: any(m.get("notice") == "link_alert:new_link" and
                                               m["destination"].get("user_id") == first for m in got))
    alert = next(m for m in alerts if m.get("notice") == "link_alert:new_link" and
                 m["destination"].get("user_id") == first)
    assert alert["destination"]["type"] == "private" and "testchat" in alert["text"]
    assert not any(m.get("notice") and m["destination"].get("user_id") == second for m in receiver.received)

    for attempt in range(5):  # five strangers with wrong digits: the code locks, both chats are told
        stranger = fresh(f"stranger{attempt}")
        post_event(bot_servers, private_message("link my account", stranger))
        post_event(bot_servers, private_message(code, stranger))
        post_event(bot_servers, private_message("0000" if digits != "0000" else "1111", stranger))
    told = receiver.wait_for(lambda got: {m["destination"].get("user_id") for m in got
                                          if m.get("notice") == "link_alert:code_locked"} >= {first, second})
    assert all(m["destination"]["type"] == "private" for m in told if m.get("notice"))


# --- what agents see ---------------------------------------------------------------------------

def test_masking_hides_codes_and_phone_digits_typed_by_customers():
    assert mask_text("my code is M100004", True) == "my code is M1••••4"
    assert mask_text("1357", True) == "••••"
    assert mask_text("call me on 13600001357", True) == "call me on •••••••••••"
    assert mask_text("+8613800138000", True) == "+•••••••••••••"
    assert mask_text("0086 138 0013 8000", True) == "•••• ••• •••• ••••"
    assert mask_text("where is A10023", True) == "where is A10023"  # order numbers stay readable
    assert mask_text("Linked M100004 on 2026-11-24", False) == "Linked M1••••4 on 2026-11-24"


def test_agents_see_masked_data_until_they_reveal_it_which_is_audited(bot_servers):
    customer = fresh("masked")
    code, digits = new_member(bot_servers.env["DATABASE_URL"])
    for text in ("link my account", code, digits, "I want to talk to a human"):
        post_event(bot_servers, private_message(text, customer))
    token = agent_token(bot_servers)
    ticket = find_ticket(bot_servers, token, customer)
    _, detail = agent_api(bot_servers, f"/tickets/{ticket['id']}", token=token)
    shown = " ".join(m["text"] for m in detail["messages"])
    assert code not in shown and digits not in shown.replace(code, "")
    assert detail["profile"]["code"] != code and "•" in detail["profile"]["code"]
    assert detail["profile"]["phone_last4"] == "••••" and detail["profile"]["masked"] is True
    status, revealed = agent_api(bot_servers, f"/tickets/{ticket['id']}/reveal", "POST", token=token)
    assert status == 200 and revealed["code"] == code and revealed["phone_last4"] == digits
    assert code in " ".join(m["text"] for m in revealed["messages"])
    with session_scope(bot_servers.env["DATABASE_URL"]) as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "member.reveal",
                                                         AuditEntry.target == f"ticket {ticket['id']}")).scalar_one()
        assert entry.account_name == "lily"
    agent_api(bot_servers, f"/tickets/{ticket['id']}/assign", "POST", token=token)
    other = agent_token(bot_servers, "tom")
    assert agent_api(bot_servers, f"/tickets/{ticket['id']}/reveal", "POST", token=other)[0] == 403


# --- retention ----------------------------------------------------------------------------------

def test_old_reply_texts_are_removed_and_counts_kept(session):
    now = utcnow()
    old, recent = now - timedelta(days=31), now - timedelta(days=1)
    reply = {"destination": {"type": "private", "user_id": "u"}, "text": "You have 1,600 points", "buttons": []}
    session.add_all([
        InboundEvent(platform="p", chat_id="c", message_id="old", status="done", received_at=old, claimed_at=old,
                     response={"status": "processed", "conversation_id": "c", "replies": [reply, reply]}),
        InboundEvent(platform="p", chat_id="c", message_id="new", status="done", received_at=recent, claimed_at=recent,
                     response={"status": "processed", "replies": [reply]}),
        OutboundMessage(platform="p", payload={**reply, "platform": "p", "in_reply_to": "old"}, status="delivered",
                        created_at=old, next_attempt_at=old, delivered_at=old),
        OutboundMessage(platform="p", payload={**reply, "platform": "p"}, status="pending", created_at=old,
                        next_attempt_at=old),
    ])
    session.flush()
    purged = purge(session, now, 30)
    assert (purged.inbound, purged.outbound) == (1, 1)
    rows = {row.message_id: row for row in session.execute(select(InboundEvent)).scalars()}
    session.expire_all()
    assert rows["old"].response == {"status": "processed", "conversation_id": "c", "reply_count": 2, "redacted": True}
    assert rows["new"].response["replies"][0]["text"] == reply["text"]
    outbound = session.execute(select(OutboundMessage).order_by(OutboundMessage.id)).scalars().all()
    assert "text" not in outbound[0].payload and outbound[0].payload["destination"] == reply["destination"]
    assert outbound[1].payload["text"] == reply["text"]  # not delivered yet: kept until it is
    assert purge(session, now, 30) == purge(session, now, 0)  # nothing left to do; 0 keeps all


def test_old_login_and_linking_records_are_deleted(session):
    from bot.db.models import LinkAttempt, LoginFailure

    now = utcnow()
    session.add_all([LoginFailure(username="lily", client_address="203.0.113.9", at=now - timedelta(days=31)),
                     LoginFailure(username="lily", client_address="203.0.113.9", at=now),
                     LinkAttempt(platform="p", platform_user_id="u", member_code="M100001", succeeded=False,
                                 attempted_at=now - timedelta(days=31))])
    session.flush()
    assert purge(session, now, 30).attempts == 2
    assert session.execute(select(LoginFailure)).scalars().one().at == now


def test_old_unanswered_texts_are_cleared_and_the_counts_kept(session):
    """The unanswered inbox's masked texts and their grouping keys go after RETENTION_DAYS;
    the records (what the insights count) stay."""
    from bot.db.models import MessageRecord
    from bot.insights.recording import message_row

    now = utcnow()
    rows = [message_row(at=at, platform="p", chat_type="private", chat_id=None, user_id="u", addressed=True,
                        text="the purple giraffe, call 13812345678", outcome="fallback",
                        parse_data={"intent": {"name": "nlu_fallback", "confidence": 0.3}})
            for at in (now - timedelta(days=31), now - timedelta(days=1))]
    session.execute(MessageRecord.__table__.insert(), rows)
    purged = purge(session, now, 30)
    assert purged.message_texts == 1
    records = session.execute(select(MessageRecord).order_by(MessageRecord.at)).scalars().all()
    assert len(records) == 2 and (records[0].text, records[0].normalized) == (None, None)
    assert records[0].outcome == "fallback" and records[0].intent == "nlu_fallback"
    assert "•" in records[1].text and records[1].normalized
    assert purge(session, now, 30).message_texts == 0


def test_old_user_ids_are_cleared_and_the_counts_and_roll_ups_kept(session):
    """After RETENTION_DAYS the insights' records of messages and group joins no longer say
    who wrote or joined (user id emptied, conversation id gone); what was counted stays, in
    the records and in the roll-ups, so the dashboards show the same figures."""
    from bot.db.models import GroupJoin, InsightDaily, MessageRecord
    from bot.insights.periods import parse_period
    from bot.insights.recording import message_row, record_joins
    from bot.insights.rollup import roll_up
    from bot.insights.sections import compute
    from bot.settings import Settings

    now = utcnow()
    old, recent = now - timedelta(days=31), now - timedelta(days=1)
    session.execute(MessageRecord.__table__.insert(), [
        message_row(at=at, platform="p", chat_type="group", chat_id="g", user_id="alice-id", addressed=True,
                    text="hello", outcome="answered", parse_data={"intent": {"name": "greet", "confidence": 0.9}},
                    conversation_id="p:group:g:alice-id") for at in (old, recent)])
    record_joins(session, "p", "g", ["bob-id"], old)
    record_joins(session, "p", "g", ["carol-id"], recent)
    settings = Settings(default_timezone="UTC", retention_days=30)
    assert roll_up(session, now, settings) > 0  # the old day is rolled up; yesterday is not final yet
    period = parse_period({"period": "custom", "from": old.date().isoformat(), "to": now.date().isoformat()},
                          now.date(), "UTC")

    def dashboards():
        return [compute(session, name, period, settings, now=now) for name in ("self_service", "community")]

    def roll_ups():
        return sorted(session.execute(select(InsightDaily.day, InsightDaily.metric, InsightDaily.dimension,
                                             InsightDaily.value)).all())

    shown, rolled = dashboards(), roll_ups()
    assert purge(session, now, 30).user_ids == 2  # the old message and the old join
    session.expire_all()
    records = session.execute(select(MessageRecord).order_by(MessageRecord.at)).scalars().all()
    assert [(r.user_id, r.conversation_id) for r in records] == [("", None), ("alice-id", "p:group:g:alice-id")]
    assert [(r.intent, r.outcome, r.chat_id) for r in records] == [("greet", "answered", "g")] * 2
    joins = session.execute(select(GroupJoin).order_by(GroupJoin.at)).scalars().all()
    assert [(j.user_id, j.chat_id) for j in joins] == [("", "g"), ("carol-id", "g")]
    assert roll_ups() == rolled and dashboards() == shown
    assert purge(session, now, 30).user_ids == 0  # nothing left to do
    later = now + timedelta(days=30)
    assert purge(session, later, 30).user_ids == 0  # yesterday's are old now, but their day is not counted yet
    roll_up(session, later, settings)
    assert purge(session, later, 30).user_ids == 2  # counted: now they go
    session.expire_all()
    assert {j.user_id for j in session.execute(select(GroupJoin)).scalars()} == {""}


def test_old_points_mall_addresses_and_unused_confirmations_go(seeded_session):
    """After RETENTION_DAYS an unused confirmation (declined, replaced, expired) is deleted
    with the address and chat id it holds, a used one loses its address; a redemption keeps
    its address while the gift waits, however long, and loses it once it was shipped or
    cancelled that long ago. What the reports count stays."""
    from bot.db.models import Member, Redemption, RewardQuote
    from bot.rewards.catalog import find_reward

    session, now = seeded_session, utcnow()
    old, recent = now - timedelta(days=40), now - timedelta(days=2)
    member = session.execute(select(Member).where(Member.code == "M100001")).scalar_one()
    tote = find_reward(session, "canvas_tote")

    def quote(token, status, at):
        row = RewardQuote(token=token, member_id=member.id, reward_id=tote.id, points_cost=1000, reward_version=1,
                          delivery_address=f"{token} Nanjing Rd", platform="testchat", user_id="alice-tc",
                          language="en", status=status, created_at=at, expires_at=at + timedelta(minutes=10))
        session.add(row)
        return row

    def redemption(name, status, at, quoted=None, cancelled_at=None):
        row = Redemption(member_id=member.id, reward_id=tote.id, quote_id=quoted.id if quoted else None, points=1000,
                         status=status, delivery_address=f"{name} Nanjing Rd", member_tier="gold", platform="testchat",
                         user_id="alice-tc", language="en", created_at=at, cancelled_at=cancelled_at, lots=[])
        session.add(row)
        session.flush()
        return row

    for token, status in (("declined", "declined"), ("replaced", "replaced"), ("expired", "pending")):
        quote(token, status, old)
    quote("recent", "declined", recent)
    used = quote("used", "used", old)
    session.flush()
    waiting = redemption("waiting", "to_ship", old, used)
    shipped_long_ago = redemption("shipped-old", "shipped", old)
    shipped_lately = redemption("shipped-new", "shipped", old)
    cancelled = redemption("cancelled", "cancelled", old, cancelled_at=old + timedelta(days=1))
    for row, at in ((shipped_long_ago, old + timedelta(days=2)), (shipped_lately, recent)):
        row.fulfilled_at, row.tracking_number = at, "SF1234567890"
    session.flush()

    assert purge(session, now, 30).reward_records == 3 + 1 + 2  # three quotes gone; one quote, two redemptions cleared
    session.expire_all()
    quotes = {row.token: row.delivery_address for row in session.execute(select(RewardQuote)).scalars()}
    assert quotes == {"recent": "recent Nanjing Rd", "used": None}
    addresses = {row.id: row.delivery_address for row in session.execute(select(Redemption)).scalars()}
    assert addresses == {waiting.id: "waiting Nanjing Rd", shipped_long_ago.id: None,
                         shipped_lately.id: "shipped-new Nanjing Rd", cancelled.id: None}
    assert purge(session, now, 30).reward_records == 0  # nothing left to do
    assert purge(session, now + timedelta(days=30), 30).reward_records == 2  # the recent quote, the later shipment


def test_a_retry_after_retention_is_still_a_duplicate(session):
    now = utcnow()
    old = now - timedelta(days=40)
    session.add(InboundEvent(platform="p", chat_id="c", message_id="m", status="done", received_at=old, claimed_at=old,
                             response={"status": "processed", "replies": [{"text": "secret"}]}))
    session.flush()
    purge(session, now, 30)
    from bot.channels.idempotency import MessageKey, claim

    again = claim(session, MessageKey("p", "c", "m"), now, timedelta(seconds=60))
    assert not again.is_new and "secret" not in str(again.stored_response)



def test_a_member_without_own_offers_gets_a_private_word_too(bot_servers):
    """Otherwise the group could tell from the "sent privately" notice who has member offers."""
    user = fresh("wx_plain")
    new_member(bot_servers.env["DATABASE_URL"], linked_as=user)
    _, bronze = post_event(bot_servers, group_message("any promotions?", user, platform="wechat",
                                                      chat=fresh("g-promo")))
    assert texts_to(bronze, "private") and "私信" in " ".join(texts_to(bronze, "group"))
