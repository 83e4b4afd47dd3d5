"""Command line: `python -m bot <command>` (the Makefile calls these)."""
from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from typing import List, Optional

from bot.settings import PROJECT_ROOT, get_settings


def cmd_migrate(args: argparse.Namespace) -> int:
    from bot.db.migrate import upgrade

    upgrade()
    print("Database schema is up to date.")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from bot.db import session_scope
    from bot.seed import clear_demo_data, database_is_empty, load_seed

    with session_scope() as session:
        if args.if_empty and not database_is_empty(session):
            print("Database already has data; demo data not loaded (use --reload to replace it).")
            return 0
        if args.reload:
            clear_demo_data(session)
        elif not database_is_empty(session):
            print("Database already has data; use --reload to replace it with the demo data.")
            return 1
        counts = load_seed(session)
    print("Loaded demo data: " + ", ".join(f"{count} {name}" for name, count in counts.items()))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from bot.runtime.training import ensure_model, model_path, train

    if args.if_changed and model_path().exists():
        print(f"Model is up to date: {model_path().name}")
        return 0
    path = train() if not args.if_changed else ensure_model()
    print(f"Model: {path}")
    return 0


def model_to_serve(settings, ensure_model):
    """The model an operator deployed last, if any (deploys are tested first); otherwise
    the model for the current files, trained if needed."""
    from bot.db import session_scope
    from bot.operator import model_store
    from bot.operator.deployment import deployed_model
    from bot.runtime.training import model_path

    with session_scope() as session:
        deployed = deployed_model(session, settings.models_dir)  # fetched from the database if need be
    # another instance may have trained the model for these files already: no need to train again
    model_store.ensure_on_disk(model_path(settings.models_dir).name, settings.models_dir)
    current = ensure_model()
    if deployed is not None and deployed != current:
        print(f"Serving {deployed.name}, deployed from the operator console. The files have changes that are not "
              f"deployed yet ({current.name}): deploy them from the console's Train & deploy tab.")
        return deployed
    return current


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.runtime import startup_checks
    from bot.runtime.servers import ROLES, BotServers
    from bot.runtime.training import ensure_model

    stop_requested_during_start_up()
    startup_checks.demo_requested_by_make_run(args.demo)
    settings = get_settings()
    refusals = startup_checks.refusals(settings)
    if refusals:
        print("\n".join(refusals), file=sys.stderr)
        return 2
    for warning in startup_checks.warnings(settings):
        print(f"Note: {warning}")
    parts = ROLES[args.role]
    servers = BotServers(model=model_to_serve(settings, ensure_model) if "rasa" in parts else None,
                         host=settings.host, rasa_port=settings.rasa_port, action_port=settings.action_port,
                         action_host=settings.action_host, parts=parts)
    print(f"Starting {', '.join(PART_NAMES[part] for part in parts)} (Ctrl-C stops them all) ...")
    try:
        servers.start()
    except KeyboardInterrupt:  # SIGTERM or Ctrl-C while starting: start() stopped what it had started
        print("Stopped during start-up.", flush=True)
        return 0
    print(running_banner(servers, settings) if "rasa" in parts else role_banner(servers, settings), flush=True)
    try:
        return servers.supervise()  # restarts what crashes; SIGTERM or Ctrl-C stops all
    except KeyboardInterrupt:  # a Ctrl-C before supervise() took over the signals
        return 0
    finally:
        servers.stop()


PART_NAMES = {"actions": "the action server", "rasa": "the Rasa server", "scheduler": "the scheduler"}


def role_banner(servers, settings) -> str:
    lines = ["", f"Running ({', '.join(servers.parts)}):"]
    if "actions" in servers.parts:
        lines.append(f"  Action server (shared secret):  {servers.action_url}/health")
    if "scheduler" in servers.parts:
        lines.append("  Announcement scheduler: active on one instance at a time, standby on the others")
    return "\n".join(lines) + "\n"


def stop_requested_during_start_up() -> None:
    """SIGTERM while the model loads stops serve like Ctrl-C (start() then stops what it
    started, in order); supervise() installs its own handlers once everything is up."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def running_banner(servers, settings) -> str:
    """Where everything is; the demo lines only while the demo is on."""
    url = servers.rasa_url
    if settings.demo_enabled:
        demo = (f"  Browser demo (ON, this machine only):  {url}/webhooks/community/demo\n"
                f"  Chat in this terminal (as a demo member):  .venv/bin/python -m bot chat --user wx_alice\n")
        agents_hint = "demo agents lily / tom, password: demo-agent-pass"
        operator_hint = "demo operator olivia, password: demo-agent-pass"
    else:
        demo = "  Browser demo:  off (DEMO_ENABLED)\n"
        agents_hint = operator_hint = "log in with your account"
    return f"""
The assistant is running.
{demo}  Community webhook (signed):  POST {url}/webhooks/community/webhook
  Agent console:  {url}/agent/   ({agents_hint};
                  add your own: .venv/bin/python -m bot agents create NAME)
  Agent API (OpenAPI):  {url}/agent/api/openapi.json
  Operator console:  {url}/operator/   ({operator_hint};
                  edit examples, responses, stories, announcements; train, test, deploy, roll back)
  Operator API (OpenAPI):  {url}/operator/api/openapi.json
  Action server (shared secret, {settings.action_host} only):  {servers.action_url}/health
"""


def cmd_chat(args: argparse.Namespace) -> int:
    """A terminal chat as one customer, in a private chat, through the signed community channel."""
    import uuid

    from bot.channels.contract import signed_headers

    settings = get_settings()
    url = f"http://{settings.host}:{settings.rasa_port}/webhooks/community/webhook"
    print(f"Talking to {url} as {args.platform} user {args.user!r}. Empty line or Ctrl-D quits.")
    for line in sys.stdin:
        text = line.strip()
        if not text:
            break
        body = json.dumps({"type": "message", "platform": args.platform,
                           "chat": {"id": args.user, "type": "private"},
                           "sender": {"id": args.user, "name": args.user},
                           "message": {"id": uuid.uuid4().hex, "text": text}}, ensure_ascii=False).encode()
        request = urllib.request.Request(url, data=body, headers={
            "Content-Type": "application/json", **signed_headers(body, settings.webhook_secret)})
        with urllib.request.urlopen(request, timeout=30) as response:
            result = json.load(response)
        if result.get("status") == "handed_off":
            print("     (a person is handling this conversation; your message went to them)")
        for reply in result.get("replies", []):
            print("bot>", reply.get("text", ""))
            for button in reply.get("buttons") or []:
                print(f"     [{button['title']}] -> {button['payload']}")
    return 0


def cmd_nlu_report(args: argparse.Namespace) -> int:
    """Rasa's own NLU evaluation of the held-out split (results/ folder).

    Rasa's evaluation ignores the FallbackClassifier, so held-out messages labelled
    nlu_fallback could never count as right; for this report they are labelled with the
    trained out_of_scope intent instead (stricter: the classifier itself must know them).
    `python -m bot nlu-eval` measures the real end result, fallback included.
    """
    import subprocess

    from bot.runtime.training import ensure_model

    out = PROJECT_ROOT / "results"
    split = out / "heldout_for_rasa"
    split.mkdir(parents=True, exist_ok=True)
    for path in sorted((PROJECT_ROOT / "tests" / "nlu").glob("heldout_*.yml")):
        text = path.read_text(encoding="utf-8").replace("- intent: nlu_fallback", "- intent: out_of_scope")
        (split / path.name).write_text(text, encoding="utf-8")
    return subprocess.call([sys.executable, "-m", "bot.runtime.rasa_entry", "test", "nlu", "--model", str(ensure_model()),
                            "--nlu", str(split), "--out", str(out)], cwd=PROJECT_ROOT)


def cmd_nlu_eval(args: argparse.Namespace) -> int:
    """Per-language held-out accuracy and out-of-scope fallback rate."""
    from pathlib import Path

    import skops.io  # noqa: F401 - before Rasa: 8-14 s faster to load the model (bot/runtime/rasa_entry.py)

    from bot.nlu_eval import evaluate, print_reports, write_json
    from bot.runtime.training import ensure_model

    reports = evaluate(Path(args.model) if args.model else ensure_model())
    print_reports(reports)
    write_json(reports, PROJECT_ROOT / "results" / "nlu_heldout.json")
    return 0


def _new_password(args: argparse.Namespace) -> str:
    """From standard input (--password-stdin), else asked twice at the terminal."""
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass(f"New password for {args.username}: ")
    if getpass.getpass("The same password again: ") != password:
        raise ValueError("the two passwords differ; nothing was changed")
    return password


def _codes(value: Optional[str]) -> Optional[List[str]]:
    """"after_sales,general" -> ["after_sales", "general"]; "" -> [] (none); None -> not given."""
    return None if value is None else [part.strip() for part in value.split(",") if part.strip()]


def _skills(agent) -> str:
    """What the queue routes an agent's tickets by (operators take none)."""
    from bot.handoff.queue import agent_languages

    teams = ",".join(team.key for team in agent.teams) or "(every team)"
    lead = "  team lead" if agent.team_lead else ""
    return f"teams: {teams}  languages: {','.join(agent_languages(agent)) or '(any)'}{lead}"


def _agent_line(agent) -> str:
    state = "active" if agent.active else "disabled"
    line = f"{agent.username:<20} {agent.display_name:<24} {agent.role:<9} {state:<8}"
    return f"{line} {_skills(agent)}" if agent.role == "agent" else line.rstrip()


def cmd_agents(args: argparse.Namespace) -> int:
    """Create, disable, enable and list agent accounts; change a password; set an agent's
    teams and languages (what the queue routes tickets by) and whether they are a team lead."""
    from sqlalchemy import select

    from bot.db import session_scope
    from bot.db.models import Agent
    from bot.handoff.agents import create_agent, set_active, set_password
    from bot.operator.teams import set_agent_skills

    with session_scope() as session:
        if args.action == "list":
            for agent in session.execute(select(Agent).order_by(Agent.username)).scalars():
                print(_agent_line(agent))
            return 0
        if not args.username:
            print("error: give the agent's username", file=sys.stderr)
            return 2
        teams, languages = _codes(args.teams), _codes(args.languages)
        try:
            if args.action == "create":
                create_agent(session, args.username, args.name or args.username, _new_password(args), args.language,
                             role=args.role)
                if teams is not None or languages is not None or args.team_lead is not None:
                    set_agent_skills(session, None, args.username, teams, languages, args.team_lead)
                print(f"Created agent {args.username}.")
            elif args.action == "set-teams":
                agent = set_agent_skills(session, None, args.username, teams, languages, args.team_lead)
                print(f"{args.username}: {_skills(agent)}")
            elif args.action == "passwd":
                set_password(session, args.username, _new_password(args))
                print(f"Changed the password of {args.username}; their open sessions were ended.")
            else:
                set_active(session, args.username, args.action == "enable")
                print(f"Agent {args.username} is now {'active' if args.action == 'enable' else 'disabled'}.")
        except ValueError as exc:  # TeamError too: nothing of the command is kept
            session.rollback()
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """Retention now (the scheduler also runs it every hour)."""
    from bot.channels.retention import purge
    from bot.db import session_scope
    from bot.db.types import utcnow

    days = get_settings().retention_days if args.days is None else args.days
    with session_scope() as session:
        purged = purge(session, utcnow(), days)
    print(f"Removed the texts of {purged.inbound} stored answers and {purged.outbound} outbound messages "
          f"older than {days} days." if days > 0 else "RETENTION_DAYS is 0: texts are kept.")
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    from bot.announcements.scheduler import main as scheduler_main

    return scheduler_main()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade the database schema").set_defaults(func=cmd_migrate)
    seed = sub.add_parser("seed", help="load the demo data (data/demo/seed.yml)")
    seed.add_argument("--if-empty", action="store_true", help="only when the database has no members")
    seed.add_argument("--reload", action="store_true", help="delete the demo tables' rows and load again")
    seed.set_defaults(func=cmd_seed)
    train = sub.add_parser("train", help="train the Rasa model")
    train.add_argument("--if-changed", action="store_true", help="skip when the inputs did not change")
    train.set_defaults(func=cmd_train)
    serve = sub.add_parser("serve", help="start the action server, the Rasa server and the scheduler")
    serve.add_argument("--demo", action="store_true",
                       help="turn the browser demo on unless DEMO_ENABLED is set (make run does this locally)")
    serve.add_argument("--role", choices=("all", "web", "actions", "scheduler"), default="all",
                       help="which processes to run: all (default), web (the Rasa server: webhooks, consoles, "
                            "APIs), actions (the action server), scheduler (announcements; one active "
                            "across instances)")
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("scheduler", help="run the announcement scheduler (serve starts one)") \
        .set_defaults(func=cmd_scheduler)
    purge = sub.add_parser("purge", help="remove stored reply texts older than RETENTION_DAYS now")
    purge.add_argument("--days", type=int, default=None, help="default: RETENTION_DAYS")
    purge.set_defaults(func=cmd_purge)
    chat = sub.add_parser("chat", help="chat with the running bot in this terminal")
    chat.add_argument("--platform", default="wechat")
    chat.add_argument("--user", default="wx_alice", help="platform user id (demo: wx_alice, wx_wangfang, ...)")
    chat.set_defaults(func=cmd_chat)
    sub.add_parser("nlu-report", help="rasa test nlu on the held-out split").set_defaults(func=cmd_nlu_report)
    agents = sub.add_parser("agents", help="manage agent console accounts")
    agents.add_argument("action", choices=["create", "passwd", "disable", "enable", "list", "set-teams"])
    agents.add_argument("username", nargs="?")
    agents.add_argument("--name", help="display name (create)")
    agents.add_argument("--language", choices=["en", "zh"], help="console language (create)")
    agents.add_argument("--role", choices=["agent", "operator"], default="agent",
                        help="agent (hand-off console) or operator (announcements, content)")
    agents.add_argument("--password-stdin", action="store_true",
                        help="read the (new) password from standard input (create, passwd)")
    agents.add_argument("--teams", help="create, set-teams: the agent's teams, comma-separated keys "
                                        "(e.g. after_sales,general; \"\" for none = every team)")
    agents.add_argument("--languages", help="create, set-teams: the languages the agent answers in, "
                                            "comma-separated (zh,en; \"\" for any)")
    agents.add_argument("--team-lead", action=argparse.BooleanOptionalAction, default=None,
                        help="create, set-teams: --team-lead lets the agent read the insights of their "
                             "console (read-only), --no-team-lead takes that away")
    agents.set_defaults(func=cmd_agents)
    from bot.announcements.cli import register as register_announcements

    register_announcements(sub)
    from bot.platforms.telegram.cli import register as register_telegram
    register_telegram(sub)
    from bot.rewards.reminders_cli import register as register_reminders
    register_reminders(sub)
    nlu_eval = sub.add_parser("nlu-eval", help="per-language held-out accuracy, the service intents, and unhandled shop problems")
    nlu_eval.add_argument("--model", default=None, help="model file (default: the current one)")
    nlu_eval.set_defaults(func=cmd_nlu_eval)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
