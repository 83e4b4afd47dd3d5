"""Two instances of the assistant (each a Rasa server with its own action server and
scheduler) on one PostgreSQL database and one Redis, as README "Running several instances"
runs them: a conversation may reach either one for each message, and nothing shows it."""
import http.client
import json
import queue
import threading
import time
from collections import Counter
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.db.models import ConversationEvent
from bot.channels.routing import private_conversation_id
from bot.db.migrate import upgrade
from bot.seed import load_seed
from tests.conftest import TEST_SECRET
from tests.e2e import agent_api, agent_token, find_ticket, operator_api, post_event, private_message
from tests.services import new_database


@pytest.fixture(scope="module")
def cluster(trained_model, postgres_cluster, redis_url, receiver, tmp_path_factory):
    """Instances "a" and "b", started side by side."""
    from bot.runtime.servers import BotServers, free_port

    database = new_database(postgres_cluster)
    upgrade(database)
    with session_scope(database) as session:
        load_seed(session)
    root = tmp_path_factory.mktemp("cluster")
    instances = {}
    for name in ("a", "b"):
        env = {"DATABASE_URL": database, "REDIS_URL": redis_url, "COMMUNITY_WEBHOOK_SECRET": TEST_SECRET,
               "DEFAULT_LANGUAGE": "zh", "BUSINESS_HOURS": "", "DEMO_ENABLED": "true",
               "OUTBOUND_WEBHOOKS": f"testchat={receiver.url}", "OUTBOUND_MAX_BACKOFF_SECONDS": "1",
               "SCHEDULER_SYNC_SECONDS": "1", "SCHEDULER_LEASE_SECONDS": "1", "MODEL_SYNC_SECONDS": "1",
               "MODELS_DIR": str(root / f"models-{name}"), "INSTANCE_NAME": f"instance-{name}"}
        instances[name] = BotServers(model=trained_model, rasa_port=free_port(), action_port=free_port(),
                                     log_dir=root / f"logs-{name}", env=env)
    for servers in instances.values():  # from this thread: the processes live as long as it does
        servers.launch()
    for servers in instances.values():
        servers.wait_ready()
    instances["database"] = database
    yield instances
    for name in ("a", "b"):
        instances[name].stop()


def said(servers, text, user, expect="processed"):
    status, body = post_event(servers, private_message(text, user))
    assert status == 200 and body["status"] == expect, body
    return " ".join(reply["text"] for reply in body["replies"])


def conversation_steps(database, user):
    """The private conversation with `user` as the policies saw it: each intent and action."""
    sender_id = private_conversation_id("testchat", user)
    with session_scope(database) as session:
        rows = session.execute(select(ConversationEvent.data).where(ConversationEvent.sender_id == sender_id)
                               .order_by(ConversationEvent.seq)).scalars().all()
    steps = []
    for event in map(json.loads, rows):
        if event["event"] == "user":
            steps.append(("intent", event["parse_data"]["intent"]["name"]))
        elif event["event"] == "action":
            steps.append(("action", event["name"]))
        elif event["event"] in ("pause", "resume", "active_loop"):
            steps.append((event["event"], event.get("name")))
    return steps


def linking_and_handoff(cluster, user, member_code, digits, instance_for):
    """Points (linking first), then a person, then the bot again; each message goes to
    `instance_for(step)`. Returns the bot's replies."""
    replies = [said(cluster[instance_for(0)], "how many points do I have?", user),
               said(cluster[instance_for(1)], member_code, user),
               said(cluster[instance_for(2)], digits, user),
               said(cluster[instance_for(3)], "I want to talk to a human", user)]
    assert said(cluster[instance_for(4)], "are you there?", user, expect="handed_off") == ""
    agents = {name: agent_token(cluster[name]) for name in ("a", "b")}
    ticket = find_ticket(cluster[instance_for(5)], agents[instance_for(5)], user, view="unassigned")
    for step, call in ((5, "assign"), (6, "reply"), (7, "resolve")):
        name = instance_for(step)
        body = {"text": "Hello, Lily here: all sorted."} if call == "reply" else None
        status, answer = agent_api(cluster[name], f"/tickets/{ticket['id']}/{call}", "POST", body, token=agents[name])
        assert status == 200, answer
    replies.append(said(cluster[instance_for(8)], "what promotions are on?", user))
    return replies


def test_a_conversation_alternating_between_instances_goes_as_on_one(cluster, receiver):
    """The same member from two chats: one alternating between the instances at every
    message, one on a single instance — the same replies, the same conversation."""
    alternating = linking_and_handoff(cluster, "alt_alice", "M100001", "1234", lambda step: "ab"[step % 2])
    alone = linking_and_handoff(cluster, "one_alice", "M100001", "1234", lambda step: "a")
    assert "member code" in alternating[0].lower() and "digits" in alternating[1].lower()
    assert "points" in alternating[2].lower()
    assert alternating == alone
    database = cluster["database"]
    steps = conversation_steps(database, "alt_alice")
    assert ("active_loop", "link_account_form") in steps and ("pause", None) in steps and ("resume", None) in steps
    assert steps == conversation_steps(database, "one_alice")
    # the agent's reply, sent from either instance, reaches each customer once (one outbox
    # dispatcher delivers at a time)
    for user in ("alt_alice", "one_alice"):
        receiver.wait_for(lambda got: any("Lily here" in m["text"] and m["destination"].get("user_id") == user
                                          for m in got))
    time.sleep(2)
    lily = Counter(m["destination"].get("user_id") for m in receiver.received if "Lily here" in m["text"])
    assert lily["alt_alice"] == 1 and lily["one_alice"] == 1, lily
    from bot.runtime.leases import holder_of

    assert holder_of("outbox", database) and holder_of("scheduler", database)


def test_twenty_customers_at_once_over_both_instances(cluster):
    customers = [f"crowd_{number}" for number in range(20)]
    questions = ["hello", "what promotions are on?", "thanks"]

    def customer(index_and_user):
        index, user = index_and_user
        answers = []
        for turn, question in enumerate(questions):
            servers = cluster["ab"[(index + turn) % 2]]
            answers.append(post_event(servers, private_message(question, user, message_id=f"{user}-{turn}")))
        return answers

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(customer, enumerate(customers)))
    for user, answers in zip(customers, results):
        for status, body in answers:
            assert status == 200 and body["status"] == "processed" and len(body["replies"]) >= 1, (user, body)
    # a retry of one of those messages at the other instance gets the first answer back and
    # is not worked on again (the intents below stay three)
    status, again = post_event(cluster["b"], private_message("hello", "crowd_0", message_id="crowd_0-0"))
    assert status == 200 and again["status"] == "duplicate" and again["replies"] == results[0][0][1]["replies"]
    for user in customers:
        steps = conversation_steps(cluster["database"], user)
        assert [step for step in steps if step[0] == "intent"] == [
            ("intent", "greet"), ("intent", "ask_promotions"), ("intent", "thank")], (user, steps)


def test_one_customer_s_burst_over_both_instances_is_answered_in_turn(cluster):
    """Six messages of one conversation at once, three at each instance: Redis's lock lets
    one instance at a time work on it, so no message is lost or answered twice."""
    user = "burst_carol"
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(
            lambda turn: post_event(cluster["ab"[turn % 2]], private_message("hello", user, message_id=f"b{turn}")),
            range(6)))
    assert all(status == 200 and body["status"] == "processed" and body["replies"] for status, body in answers)
    steps = conversation_steps(cluster["database"], user)
    assert [step for step in steps if step[0] == "intent"] == [("intent", "greet")] * 6


class EventStream:
    """An agent console's live-update stream (server-sent events), read in a thread."""

    def __init__(self, servers, token):
        url = urllib.parse.urlparse(servers.rasa_url)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        self.connection.request("GET", "/agent/api/events", headers={"Authorization": f"Bearer {token}"})
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        self.notices: "queue.Queue" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            for line in self.response:
                if line.startswith(b"data:"):
                    self.notices.put((time.monotonic(), json.loads(line[5:])))
        except Exception:
            pass

    def close(self):
        self.connection.close()


def test_a_ticket_opened_on_one_instance_reaches_a_console_on_the_other_within_a_second(cluster):
    stream = EventStream(cluster["a"], agent_token(cluster["a"]))
    try:
        time.sleep(1.0)  # the stream is set up
        while not stream.notices.empty():
            stream.notices.get()
        said(cluster["b"], "I want to talk to a human", "live_dave")
        answered = time.monotonic()
        arrived, notice = stream.notices.get(timeout=5)
        assert arrived - answered < 1.0, arrived - answered
        assert notice["type"] in ("changed", "ticket", "message")
    finally:
        stream.close()


def operator_token(servers):
    status, body = operator_api(servers, "/login", "POST", {"username": "olivia", "password": "demo-agent-pass"})
    assert status == 200, body
    return body["token"]


def served_here(servers, token):
    status, body = operator_api(servers, "/models", token=token)
    assert status == 200, body
    return body["served_here"]


def wait_until_served(servers, token, name, seconds=15.0):
    deadline = time.monotonic() + seconds
    while served_here(servers, token) != name:
        assert time.monotonic() < deadline, f"{name} was not served in {seconds} s"
        time.sleep(0.25)
    return time.monotonic()


def test_a_model_deployed_on_one_instance_is_served_by_both_and_rolled_back_on_both(cluster, trained_model):
    import shutil

    tokens = {name: operator_token(cluster[name]) for name in ("a", "b")}
    before = served_here(cluster["a"], tokens["a"])
    assert served_here(cluster["b"], tokens["b"]) == before
    new_model = "model-sharedbyinstances.tar.gz"  # only on instance a's disk: b must get it from the database
    models_a = Path(cluster["a"].env["MODELS_DIR"])
    models_a.mkdir(parents=True, exist_ok=True)
    shutil.copy(trained_model, models_a / new_model)
    status, body = operator_api(cluster["a"], "/deploy", "POST", {"model": new_model, "override": True},
                                token=tokens["a"])
    assert status == 200 and body["served"] == new_model, body
    deployed = time.monotonic()
    assert wait_until_served(cluster["b"], tokens["b"], new_model) - deployed < 10
    assert "Hi" in said(cluster["b"], "hello", "after_deploy")  # b answers with it
    status, body = operator_api(cluster["b"], "/rollback", "POST", {}, token=tokens["b"])
    assert status == 200, body
    rolled_back = time.monotonic()
    assert wait_until_served(cluster["a"], tokens["a"], before) - rolled_back < 10


def test_behind_the_documented_load_balancer_an_instance_can_stop(cluster, tmp_path):
    """docs/haproxy.cfg in front of both instances: every message is answered while one
    instance stops (runs last: it stops instance b's Rasa server)."""
    import os
    import shutil
    import signal
    import subprocess

    from bot.runtime.servers import free_port, signal_group
    from bot.settings import PROJECT_ROOT

    assert shutil.which("haproxy"), "make test installs haproxy"
    port = free_port()
    address = lambda servers: f"{servers.host}:{servers.rasa_port}"  # noqa: E731
    balancer = subprocess.Popen(
        ["haproxy", "-db", "-f", str(PROJECT_ROOT / "docs" / "haproxy.cfg")],
        env={**os.environ, "LISTEN_ADDR": f"127.0.0.1:{port}", "INSTANCE_A": address(cluster["a"]),
             "INSTANCE_B": address(cluster["b"])}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    front = type("Front", (), {"rasa_url": f"http://127.0.0.1:{port}"})()
    try:
        time.sleep(3)  # both instances pass their health checks
        for number in range(6):
            assert "Hi" in said(front, "hello", f"lb_{number}")
        rasa_b = cluster["b"].processes[cluster["b"].names.index("rasa")]
        signal_group(rasa_b, signal.SIGTERM)
        for number in range(12):  # during and after the stop: answered by instance a
            assert "Hi" in said(front, "hello", f"lb_{number}"), number
            time.sleep(0.25)
    finally:
        balancer.send_signal(signal.SIGTERM)
        balancer.wait(10)
