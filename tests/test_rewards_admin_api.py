"""The operators' rewards API over HTTP against a running assistant (bot/operator/rewards_api.py):
only operators get in; a reward is created, read, edited (a stale version is a 409 naming
`version`, a stale stock one naming `stock`, an invalid field a 400 naming it), paused,
resumed and deleted, all in the audit log; a reward a member redeemed cannot be deleted and
shows in the redemptions list (the member masked), the report and its CSV; the warehouse's
to-ship CSV (audited), a batch shipped, a code used at the till once; and every field of the
create and edit bodies, given a value no client should send, gets a documented 4xx — never a
500."""
from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request
import uuid
from datetime import timedelta

import pytest

from bot.db import session_scope
from bot.db.types import utcnow
from bot.loyalty.members import find_member_by_code
from bot.operator.openapi import OPENAPI
from bot.rewards.catalog import find_reward
from bot.rewards.redeem import Quoted, Redeemed, confirm_quote, quote_reward
from bot.settings import Settings
from tests.e2e import agent_token, operator_api
from tests.test_operator_console import operator_servers, operator_token  # noqa: F401 (a fixture)

TEXTS = {"en": {"name": "Umbrella", "description": "A folding umbrella with our logo."},
         "zh": {"name": "折叠伞", "description": "品牌logo折叠伞。"}}
ROUTES = (("GET", "/rewards"), ("POST", "/rewards"), ("GET", "/rewards/coffee_voucher"),
          ("PUT", "/rewards/coffee_voucher"), ("DELETE", "/rewards/coffee_voucher"),
          ("POST", "/rewards/coffee_voucher/pause"), ("POST", "/rewards/coffee_voucher/resume"),
          ("GET", "/redemptions"), ("GET", "/redemptions/report"), ("GET", "/redemptions/report/by_tier.csv"),
          ("GET", "/redemptions/to-ship.csv"), ("POST", "/redemptions/ship"), ("POST", "/vouchers/ABCD-EFGH-JKLM/use"))


@pytest.fixture(scope="module")
def token(operator_servers) -> str:  # noqa: F811
    return operator_token(operator_servers)


def new_reward(servers, token: str, **fields) -> dict:
    body = {"code": f"umbrella_{uuid.uuid4().hex[:6]}", "kind": "gift", "points_cost": 100, "stock": 5,
            "texts": TEXTS, **fields}
    status, created = operator_api(servers, "/rewards", "POST", body, token=token)
    assert status == 201, created
    return created


def get_raw(servers, path: str, token: str):
    request = urllib.request.Request(f"{servers.rasa_url}/operator/api{path}",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def audited(servers, token: str, code: str) -> list:
    _, entries = operator_api(servers, "/audit", token=token)
    return [entry["action"] for entry in reversed(entries) if entry["target"] == code]


def test_the_reward_routes_need_an_operator_and_are_documented(operator_servers):  # noqa: F811
    agent = agent_token(operator_servers)
    for method, path in ROUTES:
        body = {"version": 1} if method in ("POST", "PUT") else None
        assert operator_api(operator_servers, path, method, body)[0] == 401, (method, path)
        assert operator_api(operator_servers, path, method, body, token=agent)[0] == 401, (method, path)
    documented = {(method.upper(), path.replace("/operator/api", "")) for path, item in OPENAPI["paths"].items()
                  for method in item}
    for method, path in ROUTES:
        templated = path.replace("coffee_voucher", "{code}").replace("by_tier.csv", "{table}.csv") \
            .replace("ABCD-EFGH-JKLM", "{code}")
        assert (method, templated) in documented, (method, path)


def test_an_operator_creates_edits_pauses_resumes_and_deletes_a_reward(operator_servers, token):  # noqa: F811
    created = new_reward(operator_servers, token, tiers=["gold"], valid_to="2099-12-31T20:00")
    code = created["code"]
    assert created["valid_to"] == "2099-12-31T20:00:00+08:00" and created["tiers"] == ["gold"]
    assert operator_api(operator_servers, "/rewards", "POST", {**created, "texts": TEXTS}, token=token)[0] == 400
    status, taken = operator_api(operator_servers, "/rewards", "POST",
                                 {"code": code, "kind": "gift", "points_cost": 1, "texts": TEXTS}, token=token)
    assert (status, taken["field"]) == (409, "code")
    _, listed = operator_api(operator_servers, "/rewards", token=token)
    assert code in [reward["code"] for reward in listed] and "coffee_voucher" in [r["code"] for r in listed]

    status, edited = operator_api(operator_servers, f"/rewards/{code}", "PUT",
                                  {"version": 1, "stock": 2, "stock_was": 5}, token=token)
    assert status == 200 and (edited["stock"], edited["version"]) == (2, 2)
    status, stale = operator_api(operator_servers, f"/rewards/{code}", "PUT",
                                 {"version": 1, "stock": 9, "stock_was": 5}, token=token)
    assert status == 409 and stale["field"] == "version" and "someone else" in stale["error"]
    status, invalid = operator_api(operator_servers, f"/rewards/{code}", "PUT",
                                   {"version": 2, "texts": {"en": TEXTS["en"]}}, token=token)
    assert (status, invalid["field"]) == (400, "texts.zh") and "both languages" in invalid["error"]
    status, _ = operator_api(operator_servers, f"/rewards/{code}", "PUT", raw=b"{not json", token=token)
    assert status == 400

    status, paused = operator_api(operator_servers, f"/rewards/{code}/pause", "POST", token=token)
    assert status == 200 and paused["status"] == "paused" and paused["unavailable"] == "paused"
    status, resumed = operator_api(operator_servers, f"/rewards/{code}/resume", "POST", token=token)
    assert status == 200 and resumed["status"] == "active" and resumed["version"] == 4
    assert operator_api(operator_servers, f"/rewards/{code}", "DELETE", token=token) == (200, {"deleted": code})
    assert operator_api(operator_servers, f"/rewards/{code}", token=token)[0] == 404
    assert operator_api(operator_servers, f"/rewards/{code}/pause", "POST", token=token)[0] == 404
    assert audited(operator_servers, token, code) == ["reward.create", "reward.edit", "reward.pause", "reward.resume",
                                                      "reward.delete"]


def redeem_over_the_service(servers, member_code: str, reward_code: str) -> int:
    url, now = servers.env["DATABASE_URL"], utcnow()
    with session_scope(url) as session:
        member = find_member_by_code(session, member_code)
        quoted = quote_reward(session, member, find_reward(session, reward_code), ("testchat", member_code), "en",
                              now, Settings(), address="1 Huaihai Rd")
        assert isinstance(quoted, Quoted), quoted
        member_id = member.id
    redeemed = confirm_quote(quoted.token, member_id, now + timedelta(seconds=1), url)
    assert isinstance(redeemed, Redeemed), redeemed
    return redeemed.redemption_id


def test_a_redeemed_reward_is_kept_and_reported(operator_servers, token):  # noqa: F811
    code = new_reward(operator_servers, token)["code"]
    redemption = redeem_over_the_service(operator_servers, "M100008", code)  # a platinum member
    status, refused = operator_api(operator_servers, f"/rewards/{code}", "DELETE", token=token)
    assert status == 409 and "pause it instead" in refused["error"]
    _, reward = operator_api(operator_servers, f"/rewards/{code}", token=token)
    assert (reward["stock"], reward["redeemed"]) == (4, 1)

    status, page = operator_api(operator_servers, f"/redemptions?reward={code}", token=token)
    assert status == 200 and page["total"] == 1
    [item] = page["redemptions"]
    assert (item["id"], item["member"], item["member_tier"], item["points"], item["status"]) == (
        redemption, "M1••••8", "platinum", 100, "to_ship")
    assert "1 Huaihai Rd" not in json.dumps(page, ensure_ascii=False)

    status, result = operator_api(operator_servers, "/redemptions/report", token=token)
    assert status == 200 and result["totals"]["redemptions"] >= 1
    [row] = [row for row in result["by_reward"] if row["reward"] == code]
    assert [row[key] for key in ("redemptions", "points_spent", "cancelled", "net_points")] == [1, 100, 0, 100]
    assert row["names"] == {"en": "Umbrella", "zh": "折叠伞"}
    status, headers, body = get_raw(operator_servers, f"/redemptions/report/by_reward.csv?from={result['from']}",
                                    token)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert f"redemptions-by_reward-{result['from']}-{result['to']}.csv" in headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0] == ["reward", "name_en", "name_zh", "redemptions", "points_spent", "cancelled",
                        "points_returned", "net_points"]
    assert [code, "Umbrella", "折叠伞", "1", "100", "0", "0", "100"] in table and table[-1][0] == "total"
    assert get_raw(operator_servers, "/redemptions/report/by_month.csv", token)[0] == 404
    status, wrong = operator_api(operator_servers, "/redemptions/report?from=2026-02-30", token=token)
    assert (status, wrong["field"]) == (400, "from")


def test_the_warehouse_and_the_till_over_http(operator_servers, token):  # noqa: F811
    gift = new_reward(operator_servers, token)["code"]
    shipped = redeem_over_the_service(operator_servers, "M100008", gift)
    status, stale = operator_api(operator_servers, f"/rewards/{gift}", "PUT",  # loaded before the redemption
                                 {"version": 1, "stock": 5, "stock_was": 5}, token=token)
    assert (status, stale["field"]) == (409, "stock") and "the stock is now 4" in stale["error"]

    status, headers, body = get_raw(operator_servers, f"/redemptions/to-ship.csv?reward={gift}", token)
    assert status == 200 and headers["Content-Type"].startswith("text/csv") and "to-ship" in headers[
        "Content-Disposition"]
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0] == ["redemption", "redeemed_at", "reward", "name_en", "name_zh", "delivery_address"]
    assert [row[0] for row in table[1:]] == [str(shipped)] and table[1][2:] == [gift, "Umbrella", "折叠伞",
                                                                               "1 Huaihai Rd"]
    assert "redemption.to_ship_csv" in audited(operator_servers, token, "redemptions:to_ship")
    assert get_raw(operator_servers, "/redemptions/to-ship.csv?reward=no_such", token)[0] == 400

    batch = {"shipments": [{"redemption": shipped, "carrier": "SF Express", "tracking": "SF1234567890123"}]}
    status, done = operator_api(operator_servers, "/redemptions/ship", "POST", batch, token=token)
    assert status == 200 and (done["shipped"], done["already_shipped"], done["refused"]) == ([shipped], [], [])
    status, again = operator_api(operator_servers, "/redemptions/ship", "POST", batch, token=token)
    assert status == 200 and again["already_shipped"] == [shipped]
    status, bad = operator_api(operator_servers, "/redemptions/ship", "POST",
                               {"shipments": [{"redemption": shipped, "tracking": "SF/1"}]}, token=token)
    assert (status, bad["field"]) == (400, "shipments[0].tracking")
    assert audited(operator_servers, token, f"redemption:{shipped}") == ["redemption.ship"]

    voucher = new_reward(operator_servers, token, kind="voucher")["code"]
    redemption = redeem_over_the_service(operator_servers, "M100008", voucher)
    with session_scope(operator_servers.env["DATABASE_URL"]) as session:
        from bot.db.models import Redemption

        code = session.get(Redemption, redemption).code
    status, used = operator_api(operator_servers, f"/vouchers/{code.lower().replace('-', '')}/use", "POST", token=token)
    assert status == 200 and used == {"redemption_id": redemption, "reward": voucher, "kind": "voucher",
                                      "names": {"en": "Umbrella", "zh": "折叠伞"}, "points": 100, "status": "used"}
    status, twice = operator_api(operator_servers, f"/vouchers/{code}/use", "POST", token=token)
    assert status == 409 and "already used" in twice["error"]
    assert operator_api(operator_servers, "/vouchers/AAAA-BBBB-CCCC/use", "POST", token=token)[0] == 404
    assert audited(operator_servers, token, f"redemption:{redemption}") == ["redemption.use"]


HOSTILE = ("\ud800", "a\x00b", 2 ** 64, -1, 1e308, True, None, [], {"a": 1}, "x" * 70000)


def test_hostile_values_in_every_field_get_a_documented_4xx(operator_servers, token):  # noqa: F811
    """Each field of a good create and edit body in turn given a value no client should
    send: a 4xx with the error body (`field` naming it where it is one), never a 5xx."""
    code = new_reward(operator_servers, token)["code"]
    good = {"code": "hostile_x", "kind": "coupon", "points_cost": 10, "stock": None, "per_member_limit": 2,
            "tiers": ["gold"], "tags": ["vip"], "valid_from": "2030-01-01", "valid_to": "2030-02-01",
            "status": "paused", "image_url": "https://example.com/a.png", "texts": TEXTS}
    places = [(name,) for name in good] + [("texts", language, part) for language in TEXTS
                                           for part in ("name", "description")]
    problems = []
    for method, path, body in (("POST", "/rewards", good), ("PUT", f"/rewards/{code}", {**good, "code": code,
                                                                                       "version": 1, "stock_was": 5})):
        for place in places + ([("version",), ("stock_was",)] if method == "PUT" else []):
            for value in HOSTILE:
                sent = json.loads(json.dumps(body))
                target = sent
                for key in place[:-1]:
                    target = target[key]
                target[place[-1]] = value
                status, answer = operator_api(operator_servers, path, method, sent, token=token)
                acceptable = 400 <= status < 500 and isinstance(answer.get("error"), str)
                if not acceptable and not (status in (200, 201) and value in (None, [], True)):
                    problems.append(f"{method} {path} {place}={str(value)[:20]!r}: {status} {str(answer)[:120]}")
    assert not problems, "\n".join(problems)
