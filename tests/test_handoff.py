"""Hand-off end to end: customer -> ticket -> agent -> customer -> bot again."""
import uuid

from bot.runtime.servers import BotServers, free_port
from tests.e2e import agent_api, agent_token, find_ticket, group_message, post_event, private_message


def fresh(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def to_user(user):
    return lambda got: [m for m in got if m["destination"].get("user_id") == user]


def test_customer_to_agent_and_back_to_the_bot(bot_servers, receiver):
    user = fresh("cust")
    _, asked = post_event(bot_servers, group_message("转人工", user, name="Kim"))
    group_texts = [r["text"] for r in asked["replies"] if r["destination"]["type"] == "group"]
    private_texts = [r["text"] for r in asked["replies"] if r["destination"]["type"] == "private"]
    assert len(group_texts) == 1 and "私信" in group_texts[0]
    assert any("排在第" in text for text in private_texts)

    token = agent_token(bot_servers)
    ticket = find_ticket(bot_servers, token, user, view="unassigned")
    assert ticket["language"] == "zh" and ticket["origin"]["chat_type"] == "group"
    assert ticket["reason"] == "customer_request" and ticket["queue_position"] >= 1

    _, silent = post_event(bot_servers, private_message("我的快递到哪了", user))
    assert silent["status"] == "handed_off" and silent["replies"] == []

    assert agent_api(bot_servers, f"/tickets/{ticket['id']}/assign", "POST", token=token)[0] == 200
    status, sent = agent_api(bot_servers, f"/tickets/{ticket['id']}/reply", "POST",
                             {"text": "您好，我是客服 Lily，我来帮您查。"}, token=token)
    assert status == 200 and sent["delivery"] == "queued"
    agent_api(bot_servers, f"/tickets/{ticket['id']}/notes", "POST", {"text": "VIP customer, be quick"}, token=token)
    receiver.wait_for(lambda got: any("我来帮您查" in m["text"] for m in to_user(user)(got)))

    status, detail = agent_api(bot_servers, f"/tickets/{ticket['id']}", token=token)
    texts = [(m["author"], m["text"]) for m in detail["messages"]]
    assert ("customer", "转人工") in texts and ("customer", "我的快递到哪了") in texts
    assert ("note", "VIP customer, be quick") in texts
    assert detail["times"]["first_reply"] is not None

    status, resolved = agent_api(bot_servers, f"/tickets/{ticket['id']}/resolve", "POST", token=token)
    assert status == 200 and resolved["status"] == "resolved" and resolved["times"]["resolution"] is not None
    receiver.wait_for(lambda got: any("人工服务已结束" in m["text"] for m in to_user(user)(got)))
    _, back = post_event(bot_servers, private_message("有什么活动", user))
    assert back["status"] == "processed" and "冬季大促" in back["replies"][0]["text"]
    assert not any("VIP customer" in m["text"] for m in receiver.received)


def test_api_refuses_the_unauthenticated(bot_servers):
    assert agent_api(bot_servers, "/tickets")[0] == 401
    assert agent_api(bot_servers, "/tickets", token="made-up")[0] == 401
    assert agent_api(bot_servers, "/login", "POST", {"username": "lily", "password": "wrong"})[0] == 401
    status, body = agent_api(bot_servers, "/login", "POST", raw=b"{oops")
    assert status == 400
    token = agent_token(bot_servers)
    assert agent_api(bot_servers, "/tickets?view=everything", token=token)[0] == 400
    assert agent_api(bot_servers, "/tickets/999999", token=token)[0] == 404


def test_another_agents_ticket_is_theirs(bot_servers):
    user = fresh("cust")
    post_event(bot_servers, private_message("I want to talk to a human", user))
    lily, tom = agent_token(bot_servers, "lily"), agent_token(bot_servers, "tom")
    ticket = find_ticket(bot_servers, lily, user)
    assert agent_api(bot_servers, f"/tickets/{ticket['id']}/assign", "POST", token=lily)[0] == 200
    assert agent_api(bot_servers, f"/tickets/{ticket['id']}/reply", "POST", {"text": "hi"}, token=tom)[0] == 403
    assert agent_api(bot_servers, f"/tickets/{ticket['id']}/resolve", "POST", token=tom)[0] == 403
    status, moved = agent_api(bot_servers, f"/tickets/{ticket['id']}/transfer", "POST", {"username": "tom"},
                              token=lily)
    assert status == 200 and moved["assignee"] == "tom"
    assert agent_api(bot_servers, f"/tickets/{ticket['id']}/reply", "POST", {"text": "hello"}, token=tom)[0] == 200
    assert agent_api(bot_servers, f"/tickets/{ticket['id']}/reply", "POST", {"text": ""}, token=tom)[0] == 400


def test_openapi_document_describes_the_api(bot_servers):
    status, document = agent_api(bot_servers, "/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.")
    assert "/agent/api/tickets/{ticket_id}/reply" in document["paths"]


def test_restart_in_the_middle_of_an_open_ticket_loses_nothing(bot_servers, servers_db, trained_model,
                                                                tmp_path, receiver):
    user = fresh("cust")
    post_event(bot_servers, private_message("转人工", user))
    ticket = find_ticket(bot_servers, agent_token(bot_servers), user)
    # A second, freshly started server on the same database stands for the restarted one.
    restarted = BotServers(model=trained_model, rasa_port=free_port(), action_port=free_port(),
                           env=bot_servers.env, log_dir=tmp_path / "logs")
    with restarted:
        _, silent = post_event(restarted, private_message("还在吗？", user))
        assert silent["status"] == "handed_off"
        token = agent_token(restarted)
        detail = agent_api(restarted, f"/tickets/{ticket['id']}", token=token)[1]
        assert [m["text"] for m in detail["messages"] if m["author"] == "customer"][-2:] == ["转人工", "还在吗？"]
        assert agent_api(restarted, f"/tickets/{ticket['id']}/reply", "POST", {"text": "在的"}, token=token)[0] == 200
        assert agent_api(restarted, f"/tickets/{ticket['id']}/resolve", "POST", token=token)[0] == 200
        _, back = post_event(restarted, private_message("你好", user))
        assert back["status"] == "processed" and back["replies"]
