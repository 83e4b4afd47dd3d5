"""Announcements through the running stack: operator API, scheduler process, outbox, receiver."""
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from bot.settings import PROJECT_ROOT
from tests.e2e import group_message, operator_api, post_event

ISO = "%Y-%m-%dT%H:%M:%S+00:00"


@pytest.fixture(scope="module")
def operator(bot_servers):
    status, body = operator_api(bot_servers, "/login", "POST", {"username": "olivia", "password": "demo-agent-pass"})
    assert status == 200, body
    return body["token"]


def register_group(servers, token, language, tag):
    chat = f"ann-{uuid.uuid4().hex[:6]}"
    post_event(servers, group_message("hello", "someone", chat=chat))  # the channel registers the group
    groups = operator_api(servers, "/groups", token=token)[1]
    group = next(g for g in groups if g["chat_id"] == chat)
    status, updated = operator_api(servers, f"/groups/{group['id']}", "PUT", {"tags": [tag], "language": language},
                                   token=token)
    assert status == 200 and updated["tags"] == [tag]
    return group["id"], chat


def test_a_one_off_announcement_is_delivered_by_the_running_stack(bot_servers, receiver, operator):
    tag = f"city:{uuid.uuid4().hex[:6]}"
    zh_group, zh_chat = register_group(bot_servers, operator, "zh", tag)
    en_group, en_chat = register_group(bot_servers, operator, "en", tag)
    receiver.fail_next = 1  # the receiver hiccups once: the post is retried
    run_at = (datetime.now(timezone.utc) + timedelta(seconds=3)).strftime(ISO)
    status, created = operator_api(bot_servers, "/announcements", "POST", {
        "title": "Live stream tonight", "texts": {"zh": "今晚8点直播！", "en": "Live stream at 8pm!"},
        "target_tag": tag, "schedule_type": "once", "run_at": run_at, "timezone": "Asia/Shanghai"}, operator)
    assert status == 201 and created["next_runs"]
    got = receiver.wait_for(lambda got: {m["destination"]["chat_id"] for m in got
                                         if m.get("announcement_id") == created["id"]} == {zh_chat, en_chat}, 30)
    texts = {m["destination"]["chat_id"]: m["text"] for m in got if m.get("announcement_id") == created["id"]}
    assert texts == {zh_chat: "今晚8点直播！", en_chat: "Live stream at 8pm!"}
    _, runs = operator_api(bot_servers, f"/announcements/{created['id']}/history", token=operator)
    assert sorted(r["group_id"] for r in runs) == sorted([zh_group, en_group])
    assert all(r["status"] == "delivered" for r in runs)


def test_operator_api_validation_and_auth(bot_servers, operator):
    from tests.e2e import agent_token

    assert operator_api(bot_servers, "/announcements")[0] == 401
    assert operator_api(bot_servers, "/announcements", token=agent_token(bot_servers))[0] == 401
    before = len(operator_api(bot_servers, "/announcements", token=operator)[1])
    base = {"title": "x", "texts": {"zh": "x"}, "target_tag": "t", "timezone": "Asia/Shanghai"}
    cases = [({"schedule_type": "cron", "cron": "every monday"}, "cron"),
             ({"schedule_type": "once", "run_at": "2026-12-01T09:00:00"}, "run_at"),
             ({"schedule_type": "cron", "cron": "0 9 * * *", "texts": {"zh": ""}}, "texts.zh"),
             ({"schedule_type": "cron", "cron": "0 9 * * *", "target_tag": "", "target_group_ids": [424242]},
              "target_group_ids"),
             ({"schedule_type": "cron", "cron": "0 9 * * *", "starts_at": "2026-12-02T00:00:00+08:00",
               "ends_at": "2026-12-01T00:00:00+08:00"}, "ends_at")]
    for change, field in cases:
        status, body = operator_api(bot_servers, "/announcements", "POST", {**base, **change}, operator)
        assert (status, body.get("field")) == (400, field), body
    assert len(operator_api(bot_servers, "/announcements", token=operator)[1]) == before


def test_preview_pause_resume_and_test_post(bot_servers, receiver, operator):
    status, preview = operator_api(bot_servers, "/announcements/preview", "POST", {
        "schedule_type": "cron", "cron": "0 9 * * *", "timezone": "Europe/Berlin"}, operator)
    assert status == 200 and len(preview["next_runs"]) == 5
    assert all(run.endswith(("+01:00", "+02:00")) and "T09:00:00" in run for run in preview["next_runs"])
    group_id, chat = register_group(bot_servers, operator, "zh", f"t-{uuid.uuid4().hex[:4]}")
    _, created = operator_api(bot_servers, "/announcements", "POST", {
        "title": "Weekly", "texts": {"zh": "每周上新"}, "target_group_ids": [group_id],
        "schedule_type": "cron", "cron": "0 10 * * 1", "timezone": "Asia/Shanghai"}, operator)
    assert operator_api(bot_servers, f"/announcements/{created['id']}/pause", "POST", {}, operator)[1]["status"] == "paused"
    assert operator_api(bot_servers, f"/announcements/{created['id']}/resume", "POST", {}, operator)[1]["status"] == "active"
    status, sent = operator_api(bot_servers, f"/announcements/{created['id']}/test", "POST", {"group_id": group_id},
                                operator)
    assert status == 200 and sent["status"] == "queued"
    receiver.wait_for(lambda got: any(m.get("announcement_id") == created["id"] and m["text"] == "每周上新"
                                      for m in got))


def test_cli_refuses_bad_input_with_a_clear_message():
    env = {**os.environ}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "bot", "announcements", *args], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    bad_cron = cli("preview", "--cron", "0 25 * * *")
    assert bad_cron.returncode == 2 and "cron" in bad_cron.stderr
    naive = cli("create", "--title", "x", "--text-zh", "x", "--tag", "t", "--once", "2026-12-01T09:00")
    assert naive.returncode == 2 and "UTC offset" in naive.stderr
    good = cli("preview", "--every", "90m", "--timezone", "Asia/Shanghai")
    assert good.returncode == 0 and len(json.loads(good.stdout)) == 5
