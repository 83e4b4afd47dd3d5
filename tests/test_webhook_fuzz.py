"""A Hypothesis fuzz of the signed community webhook on the running servers: events that
are well formed but for one or a few wrong or extreme values (wrong types, huge and
unrepresentable numbers, deep nesting, NUL bytes, lone surrogates, long texts, arrays
for objects, fields missing or extra, any Unicode), arbitrary JSON, bytes that are not
JSON, and a few badly signed requests. Every answer must be JSON: a 200 with a status,
or a 4xx whose body names the problem in an "error" string; never a 5xx.

See docs/community-channel.md for the contract.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from typing import Any, List, Tuple

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.channels.contract import SIGNATURE_HEADER, signed_headers
from tests.conftest import TEST_SECRET

EXAMPLES = 600
RAW = "\u0001raw:{}\u0001"  # stands in a value for a JSON fragment Python's json cannot write


class Raw(str):
    """A JSON fragment written into the body as it is (a 5,000-digit number, NaN, nesting
    deeper than json.dumps allows)."""


RAW_FRAGMENTS = st.sampled_from([
    "1" * 5000, "-" + "9" * 4400, "1e999", "-1e999", "NaN", "Infinity", "-Infinity", "1.5e308", "-0",
    "[" * 3000 + "]" * 3000, "{\"a\":" * 2000 + "1" + "}" * 2000,
]).map(Raw)

TEXT = st.text(max_size=40)
UNUSUAL_TEXT = st.one_of(
    st.text(min_size=1, max_size=20).map(lambda text: text + "\x00"),
    st.sampled_from(["\ud800", "a\udfffb", "\udc80\ud800"]),
    st.sampled_from([2001, 5000, 60000]).map(lambda length: "x" * length),
    st.text(alphabet=st.characters(min_codepoint=0x80), min_size=1, max_size=30),
    st.sampled_from(["", " ", "\n\t", "\u200b", "\ufeff", "🙂" * 700, "A" * 129, "A" * 33]),
)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2 ** 70, max_value=2 ** 70),
                         st.floats(allow_nan=False, allow_infinity=False), TEXT)
ANY_JSON = st.recursive(JSON_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                             st.dictionaries(TEXT, inner, max_size=4)),
                        max_leaves=12)
NASTY_VALUES = st.one_of(
    st.sampled_from([2 ** 63, -2 ** 63 - 1, 2 ** 64, 10 ** 30, 0, -1, 1.5, True, False, None, [], {}, [[]], {"id": 1}]),
    UNUSUAL_TEXT, RAW_FRAGMENTS, ANY_JSON,
)

IDS = st.one_of(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12),
                st.integers(min_value=1, max_value=10 ** 12))
MESSAGE_TEXTS = st.one_of(
    st.sampled_from(["hi", "你好", "我有多少积分", "what promotions are there", "/bot hello", "小助手 在吗", "转人工"]),
    st.text(min_size=1, max_size=60))


def person() -> st.SearchStrategy:
    return st.fixed_dictionaries({"id": IDS}, optional={"name": TEXT, "is_bot": st.booleans()})


def message_event() -> st.SearchStrategy:
    chat = st.fixed_dictionaries({"id": IDS, "type": st.sampled_from(["private", "group"])},
                                 optional={"title": TEXT})
    message = st.fixed_dictionaries({"id": st.uuids().map(str), "text": MESSAGE_TEXTS},
                                    optional={"mentions_bot": st.booleans(), "reply_to_bot": st.booleans()})
    return st.fixed_dictionaries({"type": st.just("message"), "platform": st.sampled_from(["testchat", "fuzzchat"]),
                                  "chat": chat, "sender": person(), "message": message})


def member_joined_event() -> st.SearchStrategy:
    return st.fixed_dictionaries({
        "type": st.just("member_joined"), "platform": st.sampled_from(["testchat", "fuzzchat"]),
        "event_id": st.uuids().map(str), "chat": st.fixed_dictionaries({"id": IDS, "type": st.just("group")}),
        "members": st.lists(person(), min_size=1, max_size=3)})


def paths_of(value: Any, prefix: Tuple = ()) -> List[Tuple]:
    """Every place in a JSON value (as a path of keys and indexes), the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths_of(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths_of(item, prefix + (index,))
    return found


def mutate(data: st.DataObject, event: Any) -> Any:
    """One wrong or extreme change somewhere in the event: a value replaced, a field gone,
    a field added, or an object turned into an array."""
    path = data.draw(st.sampled_from(paths_of(event)))
    if not path:
        return data.draw(NASTY_VALUES)
    parent = event
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    change = data.draw(st.sampled_from(["replace", "replace", "remove", "add", "wrap"]))
    if change == "remove":
        del parent[key]
    elif change == "add" and isinstance(parent[key], dict):
        parent[key][data.draw(TEXT)] = data.draw(NASTY_VALUES)
    elif change == "wrap":
        parent[key] = [parent[key]]
    else:
        parent[key] = data.draw(NASTY_VALUES)
    return event


def encode(value: Any, ascii_only: bool) -> bytes:
    """The body as bytes, with every Raw fragment written in as it is."""
    fragments: List[str] = []

    def placeholder(item: Any) -> Any:
        if isinstance(item, Raw):
            fragments.append(str(item))
            return RAW.format(len(fragments) - 1)
        if isinstance(item, dict):
            return {key: placeholder(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [placeholder(inner) for inner in item]
        return item

    text = json.dumps(placeholder(value), ensure_ascii=ascii_only)
    for index, fragment in enumerate(fragments):
        text = text.replace(json.dumps(RAW.format(index), ensure_ascii=ascii_only), fragment)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def bodies(draw) -> Tuple[str, bytes]:
    kind = draw(st.sampled_from(["mutated"] * 6 + ["valid", "any_json", "not_json"]))
    if kind == "not_json":
        return kind, draw(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                                    st.just(b""), st.just(b"\xff\xfe{}")))
    if kind == "any_json":
        return kind, encode(draw(ANY_JSON), draw(st.booleans()))
    event = draw(st.one_of(message_event(), member_joined_event()))
    if kind == "mutated":
        data = draw(st.data())
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            event = mutate(data, event)
    return kind, encode(event, draw(st.booleans()))


SIGNINGS = st.sampled_from(["signed"] * 20 + ["unsigned", "wrong_secret", "stale", "legacy"])


def headers_for(body: bytes, signing: str) -> dict:
    import time

    headers = {"Content-Type": "application/json"}
    if signing == "signed":
        headers.update(signed_headers(body, TEST_SECRET))
    elif signing == "wrong_secret":
        headers.update(signed_headers(body, TEST_SECRET + "x"))
    elif signing == "stale":
        headers.update(signed_headers(body, TEST_SECRET, now=time.time() - 3600))
    elif signing == "legacy":  # the old signature without X-Timestamp: refused unless allowed
        headers[SIGNATURE_HEADER] = signed_headers(body, TEST_SECRET)[SIGNATURE_HEADER]
    return headers


def post(servers, body: bytes, headers: dict) -> Tuple[int, str, bytes]:
    request = urllib.request.Request(f"{servers.rasa_url}/webhooks/community/webhook", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def check_answer(status: int, content_type: str, raw: bytes, body: bytes) -> None:
    shown = body[:300]
    assert status < 500, f"{status} for {shown!r}: {raw[:300]!r}"
    assert content_type.startswith("application/json"), f"{status} {content_type} for {shown!r}: {raw[:300]!r}"
    answer = json.loads(raw)
    if status == 200:
        assert isinstance(answer, dict) and isinstance(answer.get("status"), str), answer
    else:
        assert 400 <= status < 500 and isinstance(answer, dict) and isinstance(answer.get("error"), str), \
            f"{status} {answer!r} for {shown!r}"


def test_every_request_to_the_signed_webhook_gets_json_and_never_a_5xx(bot_servers, capsys):
    seen: Counter = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(bodies(), SIGNINGS)
    def send(kind_and_body: Tuple[str, bytes], signing: str) -> None:
        kind, body = kind_and_body
        status, content_type, raw = post(bot_servers, body, headers_for(body, signing))
        seen[f"{kind}/{signing}"] += 1
        seen[status] += 1
        check_answer(status, content_type, raw, body)
        if signing != "signed":
            assert status == 401, (status, raw[:200])

    send()
    cases = sum(count for key, count in seen.items() if isinstance(key, int))
    with capsys.disabled():
        print(f"\nwebhook fuzz: {cases} requests; statuses "
              f"{dict(sorted((k, v) for k, v in seen.items() if isinstance(k, int)))}")
    assert cases >= EXAMPLES * 0.9
    assert seen[200] > 0 and seen[400] > 0 and seen[401] > 0


def test_the_fuzz_sends_what_it_claims():
    """The encoder really writes the fragments the standard library cannot: the webhook
    sees a 5,000-digit number and nesting 3,000 deep, not their placeholders."""
    body = encode({"a": Raw("1" * 5000), "b": [Raw("[" * 3000 + "]" * 3000)], "c": "\ud800"}, True)
    assert body.startswith(b'{"a": 1111') and b"[[[[" in body and b'"\\ud800"' in body
    assert b"raw:" not in body
