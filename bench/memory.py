"""Memory of the Rasa server as distinct conversations pile up (target: 100,000
conversations of 3 messages each under 1.2 GB RSS).

300,000 messages over HTTP would take ~45 minutes here, so two measurements instead:

1. Over HTTP (`drive`): the real server, with a smaller MAX_LIVE_CONVERSATIONS so that
   its memory plateau is reached in the time given, is sent as many new 3-message
   conversations as fit in SECONDS (cheap texts, many at once); its RSS is sampled every
   few hundred conversations, so the curve shows whether it flattens once the live
   conversations are capped.
2. In one process (`in_process`): the same model and endpoints as the server
   (rasa.core.agent.load_agent with endpoints.yml, so our PersistentTrackerStore with the
   real domain, Rasa patched as the server patches it) keeps CONVERSATIONS distinct
   3-message conversations through the store with the default MAX_LIVE_CONVERSATIONS:
   each message is a retrieve, the real events of one turn (recorded through the server,
   given new sender ids, fresh objects each), a save, and the dialogue states the policies
   remember on the tracker. Its peak RSS is the model plus the live conversations, without
   the web server's own few tens of MB.

    .venv/bin/python -m bench.memory [--seconds 60] [--conversations 20000]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import aiohttp

from bench.common import SECRET, private_event, community_event, rasa_pid
from bench.load import post_ok
from bench.procstat import peak_rss_mb, rss_mb
from bot.settings import PROJECT_ROOT

TEXTS = ["hello", "any promotions?", "thanks"]  # cheap: one conversation's three messages
PEOPLE_PER_GROUP = 20
RESULT_MARK = "bench.memory result: "  # the child's report line (Rasa logs to stdout too)


# --- 1. the real server over HTTP -------------------------------------------------------------

async def _drive(base_url: str, pid: int, seconds: float, concurrency: int, sample_every: int) -> Dict:
    from bot.channels.contract import signed_headers

    url, run = f"{base_url}/webhooks/community/webhook", uuid.uuid4().hex[:8]
    state = {"next": 0, "done": 0, "messages": 0, "errors": 0}
    curve = [{"conversations": 0, "rss_mb": rss_mb([pid])}]
    deadline = time.monotonic() + seconds
    first_private: List[str] = []

    async def conversation(session: aiohttp.ClientSession, number: int) -> None:
        person = f"mem-{run}-{number}"
        for text in TEXTS:
            event = (private_event(text, person) if number % 2 else
                     community_event(text, person, f"mem-{run}-group-{number // PEOPLE_PER_GROUP}"))
            body = json.dumps(event, ensure_ascii=False).encode()
            headers = {"Content-Type": "application/json", **signed_headers(body, SECRET)}
            ok = await post_ok(session, url, body, headers)
            state["messages" if ok else "errors"] += 1
        if number % 2 and not first_private:
            first_private.append(person)
        state["done"] += 1
        if state["done"] % sample_every == 0:
            curve.append({"conversations": state["done"], "rss_mb": rss_mb([pid])})

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            number, state["next"] = state["next"], state["next"] + 1
            await conversation(session, number)

    started = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    curve.append({"conversations": state["done"], "rss_mb": rss_mb([pid])})
    return {"seconds": round(elapsed, 1), "conversations": state["done"], "messages": state["messages"],
            "errors": state["errors"], "msg_s": round(state["messages"] / elapsed, 1), "curve": curve,
            "recorded_person": first_private[0] if first_private else None}


def drive(servers, seconds: float, concurrency: int = 40, sample_every: int = 250) -> Dict:
    """New 3-message conversations (half in groups, half private) at `servers` for `seconds`;
    the Rasa server's RSS along the way."""
    pid = rasa_pid(servers)
    result = asyncio.run(_drive(servers.rasa_url, pid, seconds, concurrency, sample_every))
    curve = result["curve"]
    tail = [point["rss_mb"] for point in curve if point["conversations"] >= result["conversations"] / 2]
    return {**result, "max_live_conversations": int(servers.env.get("MAX_LIVE_CONVERSATIONS", 10000)),
            "rss_mb_before": curve[0]["rss_mb"], "rss_mb_end": curve[-1]["rss_mb"],
            "peak_rss_mb": peak_rss_mb([pid]),
            "growth_mb_second_half": round(max(tail) - min(tail), 1) if tail else None}


def recorded_events(servers, person: str) -> List[Dict[str, Any]]:
    """The events of `person`'s private conversation, as the server stored them."""
    from sqlalchemy import select

    from bot.channels.routing import private_conversation_id
    from bot.db import session_scope
    from bot.db.models import ConversationEvent

    with session_scope(servers.env["DATABASE_URL"]) as session:
        rows = session.execute(select(ConversationEvent.data).where(
            ConversationEvent.sender_id == private_conversation_id("wechat", person))
            .order_by(ConversationEvent.seq)).scalars().all()
    return [json.loads(row) for row in rows]


# --- 2. the tracker store in one process, with the server's model -------------------------------

def in_process(events: List[Dict[str, Any]], conversations: Union[int, str] = "auto", window: int = 1000,
               timeout: float = 900.0) -> Dict:
    """Runs the measurement in a child process (its peak RSS is its own) on a fresh SQLite
    database; returns its report. `conversations`: a number, or "auto" for 2.5 times the
    default MAX_LIVE_CONVERSATIONS."""
    folder = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    try:
        (folder / "events.json").write_text(json.dumps(events, ensure_ascii=False))
        url = f"sqlite:///{folder / 'store.db'}"
        from bot.db.migrate import upgrade

        upgrade(url)
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(PROJECT_ROOT),
               "ACTION_SERVER_URL": "http://127.0.0.1:9/webhook", "ACTION_SERVER_TOKEN": "unused"}
        env.pop("MAX_LIVE_CONVERSATIONS", None)  # the default
        with open(folder / "child.log", "wb") as log:
            done = subprocess.run([sys.executable, "-m", "bench.memory", "--child", str(folder / "events.json"),
                                   "--conversations", str(conversations), "--window", str(window)],
                                  cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=log, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"bench.memory --child failed ({done.returncode}): "
                               f"{(folder / 'child.log').read_text()[-2000:]}")
        found = [line for line in done.stdout.decode().splitlines() if line.startswith(RESULT_MARK)]
        return json.loads(found[-1][len(RESULT_MARK):])
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def _turns(events: List[Dict[str, Any]]) -> List[List[str]]:
    """The recorded events split before each user message after the first: one list per
    message, each event as JSON text (parsed afresh for every conversation)."""
    users = [n for n, event in enumerate(events) if event.get("event") == "user"]
    cuts = [0] + users[1:] + [len(events)]
    return [[json.dumps(event, ensure_ascii=False) for event in events[a:b]] for a, b in zip(cuts, cuts[1:])]


def _policy_state_calls(agent, turns: List[List[str]]) -> List[Dict[str, Any]]:
    """The arguments the policies call Domain.states_for_tracker_history with (the call
    whose result our patch remembers on each tracker), seen while predicting on the
    recorded conversation."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker

    seen: Dict[str, Dict[str, Any]] = {}
    original = Domain.states_for_tracker_history

    def spy(self, tracker, omit_unset_slots=False, ignore_rule_only_turns=False, rule_only_data=None):
        key = repr((omit_unset_slots, ignore_rule_only_turns, rule_only_data))
        seen.setdefault(key, {"omit_unset_slots": omit_unset_slots, "ignore_rule_only_turns": ignore_rule_only_turns,
                              "rule_only_data": rule_only_data})
        return original(self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)

    Domain.states_for_tracker_history = spy
    try:
        tracker = DialogueStateTracker("spy", agent.domain.slots)
        for turn in turns:
            for text in turn:
                tracker.update(Event.from_parameters(json.loads(text)))
            agent.processor.predict_next_with_tracker(tracker)
    finally:
        Domain.states_for_tracker_history = original
    return list(seen.values())


def _configure_like_rasa_run() -> None:
    """Logging (INFO: debug logging costs Rasa deep copies) and TensorFlow as `rasa run` sets them."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog
    from rasa.utils.tensorflow import environment as tf_env

    configure_logging_and_warnings(None, None, warn_only_once=True, filter_repeated_logs=True)
    tf_env.setup_tf_environment()
    configure_structlog(None)


async def _child_run(events_file: str, conversations: str, window: int) -> Dict:
    _configure_like_rasa_run()
    import bot.channels.community  # noqa: F401  (the server loads it: it patches Rasa)
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.events import Event

    from bot.runtime import memory
    from bot.runtime.persistent_store import PersistentTrackerStore, live_count
    from bot.runtime.training import ensure_model

    pid = os.getpid()
    turns = _turns(json.loads(Path(events_file).read_text()))
    agent = await load_agent(model_path=str(ensure_model()),
                             endpoints=AvailableEndpoints.read_endpoints(str(PROJECT_ROOT / "endpoints.yml")))
    memory.settle_after_model_load()
    store = agent.tracker_store  # Rasa's FailSafeTrackerStore around ours, as in the server
    ours = getattr(store, "_tracker_store", store)
    if not isinstance(ours, PersistentTrackerStore):
        raise RuntimeError(f"endpoints.yml gave {type(ours).__name__}, not PersistentTrackerStore")
    domain = agent.domain
    # "auto": two and a half times the cap, so that the curve shows the plateau
    conversations = int(ours.max_live * 2.5) if conversations == "auto" else int(conversations)
    window = max(1, min(window, conversations // 10))
    model_loaded = rss_mb([pid])
    state_calls = _policy_state_calls(agent, turns)  # also its first predictions, as a server's first message
    curve = [{"conversations": 0, "live": 0, "rss_mb": rss_mb([pid])}]
    every = max(conversations // 25, 1)
    started = time.monotonic()
    # Conversation c's message t comes at step c + t * window: `window` conversations are
    # under way at any time, each message a retrieve, one turn's events, a save.
    for step in range(conversations + (len(turns) - 1) * window):
        for number_of_turn, turn in enumerate(turns):
            conversation = step - number_of_turn * window
            if not 0 <= conversation < conversations:
                continue
            tracker = await store.get_or_create_tracker(f"memory-{conversation}", append_action_listen=False)
            for text in turn:
                tracker.update(Event.from_parameters(json.loads(text)))
            await store.save(tracker)
            for arguments in state_calls:
                domain.states_for_tracker_history(tracker, **arguments)
        if (step + 1) % every == 0 and step < conversations:
            curve.append({"conversations": step + 1, "live": live_count(ours)["live"], "rss_mb": rss_mb([pid])})
    elapsed = time.monotonic() - started
    slopes = _slopes(curve, ours.max_live)  # from the points taken as conversations started
    curve.append({"conversations": conversations, "live": live_count(ours)["live"], "rss_mb": rss_mb([pid]),
                  "note": "after every conversation's last message"})
    return {"conversations": conversations, "messages_per_conversation": len(turns),
            "events_per_conversation": sum(len(turn) for turn in turns), "seconds": round(elapsed, 1),
            "live": live_count(ours)["live"], "max_live_conversations": ours.max_live,
            "policy_state_calls": len(state_calls), "rss_mb_model_loaded": model_loaded,
            "rss_mb_end": rss_mb([pid]), "peak_rss_mb": peak_rss_mb([pid]), **slopes,
            "curve": curve}


def _slopes(curve: List[Dict], max_live: int) -> Dict[str, Optional[float]]:
    """KB per conversation while the live ones still grow (up to the cap; the second half,
    past the first messages' one-off allocations), and MB per 1,000 conversations once
    capped (0 if memory is flat there)."""
    growing = [point for point in curve if 0 < point["conversations"] <= max_live]
    capped = [point for point in curve if point["conversations"] >= max_live * 1.2]

    def slope(points: List[Dict]) -> Optional[float]:
        if len(points) < 2 or points[-1]["conversations"] == points[0]["conversations"]:
            return None
        return (points[-1]["rss_mb"] - points[0]["rss_mb"]) / (points[-1]["conversations"] - points[0]["conversations"])

    grow, flat = slope(growing[len(growing) // 2:]), slope(capped)
    return {"kb_per_live_conversation": round(grow * 1024, 1) if grow is not None else None,
            "mb_per_1000_conversations_once_capped": round(flat * 1000, 2) if flat is not None else None}


def server_kb_per_live(http: Dict) -> Optional[float]:
    """The server's RSS growth per conversation between half its cap and its cap (past the
    first messages' one-off allocations), from the HTTP curve."""
    cap = http["max_live_conversations"]
    points = [p for p in http["curve"] if cap / 2 <= p["conversations"] <= cap]
    if len(points) < 2 or points[-1]["conversations"] == points[0]["conversations"]:
        return None
    return (points[-1]["rss_mb"] - points[0]["rss_mb"]) * 1024 / (points[-1]["conversations"] - points[0]["conversations"])


def default_max_live() -> int:
    """MAX_LIVE_CONVERSATIONS when it is not set (bot/settings.py)."""
    from bot.settings import Settings

    saved = os.environ.pop("MAX_LIVE_CONVERSATIONS", None)
    try:
        return Settings().max_live_conversations
    finally:
        if saved is not None:
            os.environ["MAX_LIVE_CONVERSATIONS"] = saved


def estimate_100k(http: Optional[Dict], store: Optional[Dict], target: int = 100000) -> Optional[Dict]:
    """The Rasa server's RSS with `target` conversations and the default cap, from what was
    measured: its plateau over HTTP (with a lower cap), plus what each further live
    conversation costs (the larger of the server's own slope and the in-process one), plus
    any growth once capped (in-process), as if it went on to `target`."""
    if not http or http["conversations"] < http["max_live_conversations"] * 1.2:
        return {"estimate_basis": "none: the server over HTTP did not get past its cap (plateau not reached)"}
    cap = http["max_live_conversations"]
    default_cap = store["max_live_conversations"] if store else default_max_live()
    slopes = {"server over HTTP": server_kb_per_live(http),
              "in-process": store["kb_per_live_conversation"] if store else None}
    source, per_live_kb = max(((name, kb) for name, kb in slopes.items() if kb is not None),
                              key=lambda item: item[1], default=("nothing", 0.0))
    capped = (store or {}).get("mb_per_1000_conversations_once_capped")
    reached = max(http["conversations"], (store or {}).get("conversations", 0))
    more_live = max(default_cap - cap, 0) * per_live_kb / 1024
    growth = max(capped or 0.0, 0.0) * max(target - reached, 0) / 1000
    return {"estimate_rss_mb_100k": round(http["rss_mb_end"] + more_live + growth, 1), "default_max_live": default_cap,
            "server_kb_per_live_conversation": round(slopes["server over HTTP"], 1)
            if slopes["server over HTTP"] is not None else None,
            "estimate_basis": f"estimate with the default cap of {default_cap}: the server's plateau "
                              f"{http['rss_mb_end']} MB at {cap} live + "
                              f"{round(more_live, 1)} MB for {default_cap - cap} more live at {round(per_live_kb, 1)} "
                              f"KB each ({source}, the larger) + {round(growth, 1)} MB growth once capped "
                              f"({capped} MB per 1,000 in-process, over the {max(target - reached, 0)} not run)"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)  # the in-process measurement's own process
    parser.add_argument("--window", type=int, default=1000, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to drive the server over HTTP")
    parser.add_argument("--max-live", type=int, default=1000, help="the server's MAX_LIVE_CONVERSATIONS")
    parser.add_argument("--conversations", default="auto",
                        help="conversations in the in-process run (auto: 2.5 x the default MAX_LIVE_CONVERSATIONS)")
    args = parser.parse_args()
    if args.child:
        print(RESULT_MARK + json.dumps(asyncio.run(_child_run(args.child, args.conversations, args.window))))
        return 0
    from bench.common import running_assistant

    with running_assistant({"MAX_LIVE_CONVERSATIONS": str(args.max_live)}) as servers:
        http = drive(servers, args.seconds)
        events = recorded_events(servers, http["recorded_person"])
    print(json.dumps({"http": http}, indent=2))
    print(json.dumps({"in_process": in_process(events, args.conversations)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
