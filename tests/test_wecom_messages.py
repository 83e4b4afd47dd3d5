"""WeCom callbacks (the JSON WeCom documents) mapped onto the community contract, and our
replies rendered as WeCom messages."""
import json

import pytest

from bot.channels.contract import BadRequest
from bot.i18n import t
from bot.platforms.wecom import replies
from bot.platforms.wecom.messages import parse_callback, strip_mentions, to_event


def callback(**fields):
    """A callback shaped like WeCom's sample in https://developer.work.weixin.qq.com/document/path/100719."""
    message = {"msgid": "CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=", "aibotid": "AIBOTID", "chatid": "CHATID",
               "chattype": "group", "from": {"userid": "USERID"}, "response_url": "https://example.invalid/r?c=1",
               "msgtype": "text", "text": {"content": "@RobotA hello robot"}}
    message.update(fields)
    return parse_callback(json.dumps(message, ensure_ascii=False).encode())


def event_of(**fields):
    return to_event(callback(**fields), 2000, continue_token="tok", received_at=1700000000.0)


def test_a_group_message_is_addressed_with_the_mention_taken_out():
    event = event_of()
    assert event.chat.type == "group" and event.chat.id == "CHATID" and event.sender.id == "USERID"
    assert event.text == "hello robot" and event.mentions_bot and event.message_id == "CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI="
    assert not event.sender.can_message_privately  # the robot cannot write to them on its own
    assert event.continue_token is None  # only a private message continues a request
    assert event.reply_context == {"response_url": "https://example.invalid/r?c=1", "received_at": 1700000000.0}


def test_a_single_chat_is_the_users_private_chat():
    event = event_of(chattype="single", chatid=None, text={"content": "我有多少积分"})
    assert event.chat.type == "private" and event.chat.id == "USERID" and event.text == "我有多少积分"
    assert event.continue_token == "tok" and not event.mentions_bot


def test_a_mixed_message_is_its_text_parts():
    event = event_of(msgtype="mixed", text=None, mixed={"msg_item": [
        {"msgtype": "text", "text": {"content": "@RobotA 这个活动"}},
        {"msgtype": "image", "image": {"url": "https://example.invalid/i"}},
        {"msgtype": "text", "text": {"content": "怎么参加？"}}]})
    assert event.text == "这个活动\n怎么参加？"


def test_a_bare_mention_on_a_quote_stands_for_the_quoted_text():
    event = event_of(text={"content": "@RobotA"}, quote={"msgtype": "text", "text": {"content": "冬季大促还有吗"}})
    assert event.text == "冬季大促还有吗"
    own_words = event_of(text={"content": "@RobotA 这个呢"}, quote={"msgtype": "text", "text": {"content": "x"}})
    assert own_words.text == "这个呢"


@pytest.mark.parametrize("fields", [
    {"msgtype": "image", "text": None, "image": {"url": "https://example.invalid/i"}},
    {"msgtype": "voice", "text": None, "voice": {"content": "语音"}},
    {"msgtype": "file", "text": None, "file": {"url": "https://example.invalid/f"}},
    {"msgtype": "event", "text": None, "event": {"eventtype": "enter_chat"}},
    {"msgtype": "stream", "text": None, "stream": {"id": "STREAMID"}},
    {"text": {"content": "@RobotA"}},  # nothing but the mention
])
def test_other_kinds_are_acknowledged_and_not_answered(fields):
    assert event_of(**fields) is None


@pytest.mark.parametrize("fields,field", [
    ({"from": {}}, "from.userid"), ({"chatid": None}, "chatid"), ({"msgid": ""}, "msgid"),
    ({"chattype": "channel"}, "chattype"), ({"msgtype": None}, "msgtype"), ({"msgid": "x" * 200}, "msgid"),
])
def test_a_callback_missing_what_we_need_is_a_400_naming_it(fields, field):
    with pytest.raises(BadRequest) as refused:
        callback(**fields)
    assert refused.value.status == 400 and refused.value.field == field


def test_undecodable_and_overlong_messages_are_refused():
    with pytest.raises(BadRequest) as not_json:
        parse_callback(b"\xff not json")
    assert not_json.value.status == 400
    with pytest.raises(BadRequest) as too_long:
        to_event(callback(text={"content": "长" * 2001}), 2000)
    assert too_long.value.status == 413


@pytest.mark.parametrize("typed,meant", [
    ("@RobotA hello robot", "hello robot"), ("hello@项目开发管理助手 ", "hello"), ("积分多少 @小助手", "积分多少"),
    ("@Alice @小助手 积分多少", "积分多少"), ("@小助手\u2005我的订单", "我的订单"), ("没有提到", "没有提到"),
])
def test_mentions_around_the_text_are_taken_out(typed, meant):
    assert strip_mentions(typed) == meant


def test_replies_to_one_message_become_one_message_with_options_and_pictures():
    content = replies.render_all([
        {"text": "您好！", "buttons": []},
        {"text": "需要转人工吗？", "buttons": [{"title": "好的，转人工", "payload": "/affirm"},
                                        {"title": "不用了", "payload": "/deny"}]},
        {"text": "看看这个", "image": "https://example.invalid/p.png"}], "zh")
    assert content == "您好！\n\n需要转人工吗？\n请回复：好的，转人工 / 不用了\n\n看看这个\n![](https://example.invalid/p.png)"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_continue_privately_notice_says_how_to_open_the_chat_in_wecom(language):
    notice = {"text": t("group.continue_privately", language), "continue_privately": {"token": "abc"}}
    assert replies.render(notice, "zh") == t("wecom.continue_privately", language)


def test_content_is_cut_to_wecoms_limit_on_a_character_boundary():
    cut = replies.fit("积" * 10000)
    assert len(cut.encode("utf-8")) <= replies.CONTENT_LIMIT_BYTES and cut.endswith("…")
    assert replies.stream_reply("k", "x")["stream"]["finish"] is True
    assert replies.stream_id("k") == replies.stream_id("k") != replies.stream_id("other")


def test_typed_intent_payloads_are_read_as_words_and_odd_shapes_are_not_errors():
    from bot.platforms.wecom.messages import message_text, parse_callback

    def callback(body):
        base = {"msgid": "m1", "chattype": "single", "from": {"userid": "wc_1"}, "msgtype": "text"}
        return parse_callback(json.dumps({**base, **body}).encode())

    assert message_text(callback({"text": {"content": '/check_points{"member_code": "M100001"}'}})) \
        == 'check_points{"member_code": "M100001"}'
    for odd in ({"text": "just a string"}, {"msgtype": "mixed", "mixed": []}, {"quote": "x", "text": {}}):
        assert message_text(callback(odd)) == ""
