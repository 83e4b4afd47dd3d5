"""The points mall end to end over the signed webhook, with the real Rasa and action servers:
list -> choose -> confirm, the ledger and stock changed and the code delivered; a gift with its
delivery address (Chinese, typed); a double-tapped confirm redeeming once; refusals; a group
request continued in private with nothing personal in the group; linking first; my
redemptions; the reminders opt-out."""
import json
import re
import uuid

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.db.models import PointsTransaction, Redemption, Reward
from bot.loyalty.members import find_member_by_code
from tests.e2e import group_message, own_servers, post_event

HAN = re.compile(r"[\u4e00-\u9fff]")
CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")


@pytest.fixture(scope="module")
def servers(trained_model, tmp_path_factory):
    with own_servers(trained_model, tmp_path_factory.mktemp("rewards")) as servers:
        yield servers


@pytest.fixture(scope="module")
def database(servers):
    return servers.database


def send(servers, user: str, text: str, platform: str = "wechat", message_id: str = None):
    event = {"type": "message", "platform": platform, "chat": {"id": user, "type": "private"},
             "sender": {"id": user, "name": user}, "message": {"id": message_id or uuid.uuid4().hex, "text": text}}
    status, body = post_event(servers, event)
    assert status == 200, body
    return body["replies"]


def button(replies, title_part: str) -> str:
    for reply in replies:
        for item in reply.get("buttons") or []:
            if title_part in item["title"]:
                return item["payload"]
    raise AssertionError(f"no button with {title_part!r} in {replies}")


def redemptions_of(database: str, member_code: str):
    with session_scope(database) as session:
        member = find_member_by_code(session, member_code)
        rows = session.execute(select(Redemption).where(Redemption.member_id == member.id)
                               .order_by(Redemption.id)).scalars().all()
        debits = session.execute(select(PointsTransaction.amount).where(
            PointsTransaction.member_id == member.id, PointsTransaction.reason == "redeem",
            PointsTransaction.redemption_id.is_not(None))).scalars().all()
        return [(row.reward.code, row.status, row.code, row.delivery_address) for row in rows], debits


def stock(database: str, code: str):
    with session_scope(database) as session:
        return session.execute(select(Reward.stock).where(Reward.code == code)).scalar_one()


def test_list_choose_confirm_delivers_the_code_and_debits_once(servers, database):
    listing = send(servers, "wx_alice", "what can I get with my points?")
    text = listing[0]["text"]
    assert "Alice Chen, you have 1,600 points" in text and "Coffee voucher — 300 points" in text
    assert "Limited-edition mug — 600 points (only 1 left)" in text
    assert "Cashmere scarf: 900 more points" in text  # a near miss, no button
    assert "Spa day" not in text and "Summer hand fan" not in text  # platinum only; ended
    choose = button(listing, "Coffee voucher")
    assert choose == '/redeem_points{"reward":"coffee_voucher"}'
    asked = send(servers, "wx_alice", choose)
    assert "Coffee voucher: 300 points. You have 1,600, so 1,300 will be left." in asked[0]["text"]
    confirm = button(asked, "Confirm")
    done = send(servers, "wx_alice", confirm)
    code = CODE.search(done[0]["text"]).group(0)
    assert "Coffee voucher is yours" in done[0]["text"] and "balance is now 1,300 points" in done[0]["text"]
    again = send(servers, "wx_alice", confirm)  # a second tap on the same button
    assert "already done" in again[0]["text"] and code in again[0]["text"]
    rows, debits = redemptions_of(database, "M100001")
    assert rows == [("coffee_voucher", "issued", code, None)] and debits == [-300]
    mine = send(servers, "wx_alice", "show my vouchers")
    assert "Coffee voucher" in mine[0]["text"] and code in mine[0]["text"]


def test_a_retried_confirm_message_is_answered_once(servers, database):
    asked = send(servers, "wx_alice", '/redeem_points{"reward":"coffee_voucher"}')
    confirm = button(asked, "Confirm")
    message_id = uuid.uuid4().hex
    first = send(servers, "wx_alice", confirm, message_id=message_id)
    event = {"type": "message", "platform": "wechat", "chat": {"id": "wx_alice", "type": "private"},
             "sender": {"id": "wx_alice", "name": "wx_alice"}, "message": {"id": message_id, "text": confirm}}
    status, retried = post_event(servers, event)
    assert first and status == 200 and retried["status"] == "duplicate"
    assert redemptions_of(database, "M100001")[1] == [-300, -300]


def test_a_gift_asks_for_the_address_in_chinese_and_ships_there(servers, database):
    asked = send(servers, "wx_zhangwei", "我要兑换帆布包")
    assert "寄到哪里" in asked[0]["text"]
    invalid = send(servers, "wx_zhangwei", "上海")
    assert "地址似乎不完整" in invalid[0]["text"]
    confirm = send(servers, "wx_zhangwei", "张伟 13800001234 上海市静安区南京西路100号")
    text = confirm[0]["text"]
    assert "帆布托特包：1,000 积分" in text and "收货地址：张伟 13800001234 上海市静安区南京西路100号" in text
    assert [b["title"] for b in confirm[0]["buttons"]] == ["确认", "取消"]
    done = send(servers, "wx_zhangwei", "确认")
    assert "兑换成功" in done[0]["text"] and "礼品将寄往：张伟" in done[0]["text"]
    rows, debits = redemptions_of(database, "M100005")
    assert rows == [("canvas_tote", "to_ship", None, "张伟 13800001234 上海市静安区南京西路100号")]
    assert debits == [-1000] and stock(database, "canvas_tote") == 39


def test_declining_and_refusals_spend_nothing(servers, database):
    asked = send(servers, "wx_liuyang", "兑换咖啡券")
    declined = send(servers, "wx_liuyang", button(asked, "取消"))
    assert "未兑换" in declined[0]["text"]
    assert "已取消这次兑换" in send(servers, "wx_liuyang", button(asked, "确认"))[0]["text"]
    not_for_silver = send(servers, "wx_liuyang", '/redeem_points{"reward":"cashmere_scarf"}')
    assert "仅限特定会员等级" in not_for_silver[0]["text"]
    ended = send(servers, "wx_liuyang", '/redeem_points{"reward":"summer_fan"}')
    assert "已结束" in ended[0]["text"]
    assert redemptions_of(database, "M100007") == ([], [])


def test_asked_in_a_group_the_rest_continues_in_private(servers, database):
    _, result = post_event(servers, group_message("what can I get with my points?", "wx_emily", name="Emily",
                                                  platform="wechat", chat="members-group"))
    group = [r for r in result["replies"] if r["destination"]["type"] == "group"]
    private = [r for r in result["replies"] if r["destination"]["type"] == "private"]
    assert len(group) == 1 and not re.search(r"\d", group[0]["text"].replace("@", ""))
    assert not group[0].get("buttons")
    assert private and "Emily Wong, you have" in private[0]["text"] and private[0].get("buttons")


def test_not_linked_links_first_then_sees_the_rewards(servers, database):
    user = f"new_{uuid.uuid4().hex[:6]}"
    intro = send(servers, user, "积分能换什么")
    assert HAN.search(intro[0]["text"]) and "会员编号" in "".join(r["text"] for r in intro)
    send(servers, user, "M100010")
    linked = send(servers, user, "1111")
    joined = "\n".join(r["text"] for r in linked)
    assert "Sophie Martin" in joined and "Coffee voucher" in joined  # her saved language is English


def test_stop_and_restart_reminders(servers, database):
    assert "不再提醒" in send(servers, "wx_sunhao", "不要提醒")[0]["text"]
    with session_scope(database) as session:
        assert find_member_by_code(session, "M100019").reminders_opt_out is True
    assert "积分到期前会提醒您" in send(servers, "wx_sunhao", "/start_reminders")[0]["text"]
    with session_scope(database) as session:
        assert find_member_by_code(session, "M100019").reminders_opt_out is False


def test_typed_confirmation_in_english(servers, database):
    asked = send(servers, "wx_grace", "redeem the ¥50 off coupon")
    assert "¥50 off coupon: 800 points" in asked[0]["text"], asked
    done = send(servers, "wx_grace", "yes")
    assert CODE.search(done[0]["text"]) and "Enter it at checkout" in done[0]["text"]
    assert json.dumps(redemptions_of(database, "M100015")[1]) == "[-800]"
