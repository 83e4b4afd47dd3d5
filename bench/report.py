"""`make bench`'s summary: medians over the rounds, the ratios, the targets, the table."""
from __future__ import annotations

import statistics
from typing import Dict, List, Optional

from bot.insights.periods import MAX_DAYS

# bench/run.py's rows of throughput rounds, in the table's order, with their column titles
COLUMNS = {"stock": "stock rasa init", "ours": "ours", "ours_cache_off": "ours, cache off",
           "instances": "PG+Redis, 2 inst."}
KEYS = ("throughput_msg_s", "p50_ms", "p95_ms", "p99_ms", "server_cpu_percent")
TARGET_RSS_MB = 1200.0


def summarise(rounds: Dict[str, List[Dict]]) -> Dict[str, Dict]:
    def median(bot: str, key: str) -> Optional[float]:
        values = [r[key] for r in rounds[bot] if r[key] is not None]
        return round(statistics.median(values), 1) if values else None

    summary: Dict[str, Dict] = {bot: {key: median(bot, key) for key in KEYS} for bot in rounds}
    for bot in rounds:
        summary[bot]["errors"] = sum(r["errors"] for r in rounds[bot])
    stock = summary["stock"]["throughput_msg_s"]
    for bot in rounds:
        ours = summary[bot]["throughput_msg_s"]
        summary[bot]["ratio_to_stock"] = round(ours / stock, 2) if stock and ours is not None else None
    embedded = summary.get("ours", {}).get("throughput_msg_s")
    if "instances" in summary and embedded:
        summary["instances"]["ratio_to_embedded"] = round(summary["instances"]["throughput_msg_s"] / embedded, 2)
    summary["throughput_ratio"] = summary["ours"]["ratio_to_stock"]  # as before: ours (cache on) / stock
    return summary


def _check(ok: Optional[bool]) -> str:
    return "n/a " if ok is None else ("PASS" if ok else "MISS")


def targets(report: Dict) -> List[Dict]:
    """The issue's targets, each with what was measured and whether it held."""
    s, found = report["summary"], []

    def add(name: str, measured, ok: Optional[bool]) -> None:
        found.append({"target": name, "measured": measured, "status": _check(ok)})

    off = s.get("ours_cache_off")
    if off:
        add("cache off: throughput >= 7.6x stock (today)", f"{off['ratio_to_stock']}x",
            off["ratio_to_stock"] is not None and off["ratio_to_stock"] >= 7.6)
        add("cache off: p95 <= 123 ms (today)", f"{off['p95_ms']} ms", off["p95_ms"] is not None and off["p95_ms"] <= 123)
        add("cache off, aim: >= 10x stock", f"{off['ratio_to_stock']}x",
            off["ratio_to_stock"] is not None and off["ratio_to_stock"] >= 10)
        add("cache off, aim: p95 <= 100 ms", f"{off['p95_ms']} ms", off["p95_ms"] is not None and off["p95_ms"] <= 100)
    for label, result in report.get("long_conversation", {}).items():
        if "ratio" in result:
            add(f"long conversation, {label}: p50 491-500 <= 1.5x 1-10", f"{result['ratio']}x", result["ratio"] <= 1.5)
    inst = s.get("instances")
    if inst and inst.get("ratio_to_embedded") is not None:
        add("2 instances: throughput >= 0.7x embedded", f"{inst['ratio_to_embedded']}x", inst["ratio_to_embedded"] >= 0.7)
    ol = report.get("open_loop")
    if ol and "p95_ms" in ol:
        add(f"open loop {ol['rate_msg_s']:g} msg/s: p95 <= 150 ms", f"{ol['p95_ms']} ms",
            ol["p95_ms"] is not None and ol["p95_ms"] <= 150)
        add("open loop: zero errors", f"{ol['errors']} errors", ol["errors"] == 0)
    memory = report.get("memory", {})
    if "estimate_rss_mb_100k" in memory:
        add("memory, 100,000 conversations: Rasa server < 1.2 GB RSS", f"{memory['estimate_rss_mb_100k']} MB "
            f"({memory['estimate_basis']})", memory["estimate_rss_mb_100k"] < TARGET_RSS_MB)
    store = memory.get("in_process")
    if store:
        add(f"memory, measured in one process: {store['conversations']} conversations, {store['live']} live: peak "
            f"< 1.2 GB", f"{store['peak_rss_mb']} MB", store["peak_rss_mb"] < TARGET_RSS_MB)
    for database, result in report.get("insights", {}).items():
        if isinstance(result, dict) and "pages" in result:
            page, inbox, target = result["slowest_page"], result["slowest_inbox"], result["target_seconds"]
            add(f"insights, {database}, {result['messages']:,} messages: every page (period + previous period + "
                f"HTML) <= {target:g} s", f"slowest {page['seconds']} s ({page['page']})", page["seconds"] <= target)
            add(f"insights, {database}: unanswered inbox listing <= {target:g} s",
                f"slowest {inbox['seconds']} s ({inbox['listing']})", inbox["seconds"] <= target)
    return found


def print_table(report: Dict) -> None:
    s = report["summary"]
    bots = [bot for bot in COLUMNS if bot in s]
    print(f"\nBenchmark {report['date']} on {report['machine']}, {report['concurrency']} concurrent customers, "
          f"{report['rounds']} x {report['round_seconds']:g} s rounds alternating\n")
    print(f"{'':<22}" + "".join(f"{COLUMNS[bot]:>19}" for bot in bots))
    rows = (("throughput_msg_s", "throughput msg/s"), ("ratio_to_stock", "ratio to stock"), ("p50_ms", "p50 ms"),
            ("p95_ms", "p95 ms"), ("p99_ms", "p99 ms"), ("errors", "errors"),
            ("server_cpu_percent", "server CPU %"))
    for key, label in rows:
        print(f"{label:<22}" + "".join(f"{str(s[bot].get(key)):>19}" for bot in bots))
    peak, start = report["peak_memory_mb"], report["start_up_seconds"]
    print(f"{'peak memory MB':<22}{peak['stock']:>19}{peak['ours']:>19}")
    print(f"{'start-up s':<22}{start['stock']:>19}{start['ours']:>19}")
    if "instances" in s:
        print(f"\n{report['instances']['count']} instances (PostgreSQL + Redis, {report['instances']['spread']}): "
              f"{s['instances']['ratio_to_embedded']}x the embedded (SQLite) throughput, same run; their CPU % "
              f"counts our processes only (not PostgreSQL or Redis); all share {report['cores']} cores with the "
              f"load generator")
    for label, cache in report.get("parse_cache", {}).items():
        print(f"parse cache, {label}: {cache['hits']} hits, {cache['misses']} misses (hit rate {cache['hit_rate']}, "
              f"size {cache['size']})")
    print()
    for label, lc in report.get("long_conversation", {}).items():
        if "ratio" in lc:
            along = ", ".join(f"{window}: {ms}" for window, ms in lc.get("p50_ms_along", {}).items())
            print(f"long conversation, {label}: p50 {lc['p50_ms_first_10']} ms (messages 1-10) vs "
                  f"{lc['p50_ms_last_10']} ms (last 10 of {lc['messages']}): {lc['ratio']}x; p50 ms along: {along}")
        else:
            print(f"long conversation, {label}: {lc.get('skipped')}")
    _print_open_loop(report.get("open_loop"))
    _print_memory(report.get("memory", {}))
    trained = report["training_seconds"]["ours"]
    print(f"\ntraining (full model): {f'{trained} s' if trained is not None else 'not measured (BENCH_SKIP_TRAINING)'}")
    print(f"fan-out: {report['fanout']['groups']} groups delivered in "
          f"{report['fanout']['seconds_from_run_time_to_all_delivered']} s")
    print(f"held-out NLU: {report['held_out_nlu']}")
    if report.get("insights"):
        print()
        print_insights(report["insights"])
    print("\ntargets (issue):")
    for target in report["targets"]:
        print(f"  {target['status']}  {target['target']}: {target['measured']}")
    for skipped in report.get("skipped", []):
        print(f"  skipped: {skipped}")
    print(f"\nbench wall time: {report['bench_seconds']} s ({report['bench_seconds'] / 60:.1f} min); "
          f"phases: {report['phase_seconds']}")


def _print_open_loop(ol: Optional[Dict]) -> None:
    if not ol:
        return
    print(f"open loop, embedded default (SQLite, parse cache on): {ol['rate_msg_s']:g} msg/s Poisson from "
          f"{ol['conversations']} conversations for {ol['seconds']:g} s: sent {ol['sent']}, answered {ol['answered']}, "
          f"errors {ol['errors']}, answered {ol.get('answered_msg_s')} msg/s; p50 / p95 / p99 {ol['p50_ms']} / {ol['p95_ms']} / {ol['p99_ms']} ms "
          f"(from each scheduled arrival); statuses {ol['statuses']}; {ol['distinct_conversations']} conversations "
          f"spoke; Rasa server CPU {ol.get('server_cpu_percent')} %")


def _print_memory(memory: Dict) -> None:
    http, store = memory.get("http"), memory.get("in_process")
    if http:
        curve = ", ".join(f"{p['conversations']}: {p['rss_mb']}" for p in http["curve"])
        print(f"\nmemory 1, the real Rasa server over HTTP with MAX_LIVE_CONVERSATIONS={http['max_live_conversations']} "
              f"(lowered to reach the plateau in time): {http['conversations']} new 3-message conversations in "
              f"{http['seconds']} s ({http['msg_s']} msg/s, {http['errors']} errors); RSS MB by conversations: {curve}; "
              f"growth over the second half {http['growth_mb_second_half']} MB; "
              f"{memory.get('server_kb_per_live_conversation')} KB per live conversation up to the cap")
    if store:
        print(f"memory 2, in one process with the server's model and PersistentTrackerStore, the default "
              f"MAX_LIVE_CONVERSATIONS={store['max_live_conversations']}: {store['conversations']} distinct "
              f"{store['messages_per_conversation']}-message conversations ({store['events_per_conversation']} real "
              f"events each) in {store['seconds']} s; RSS {store['rss_mb_model_loaded']} MB with the model loaded, "
              f"peak {store['peak_rss_mb']} MB ({store['live']} live); {store['kb_per_live_conversation']} KB per live "
              f"conversation, {store['mb_per_1000_conversations_once_capped']} MB per 1,000 more once capped")
    if "estimate_rss_mb_100k" not in memory and memory.get("estimate_basis"):
        print(f"=> no 100,000-conversation estimate: {memory['estimate_basis']}")
    if "estimate_rss_mb_100k" in memory:
        print(f"=> Rasa server with 100,000 conversations (3 messages each): {memory['estimate_rss_mb_100k']} MB RSS "
              f"({memory['estimate_basis']}); target < {TARGET_RSS_MB:g} MB")


# --- the insights pages (bench/insights.py) -------------------------------------------------------

def print_insights(insights: Dict, only: Optional[str] = None) -> None:
    """Per database: how it was loaded, then a table section x period of what a page costs
    (wall seconds, best of the repeats, PASS/MISS against the target), then the inbox."""
    if "skipped" in insights:
        print(f"insights pages: skipped ({insights['skipped']})")
        return
    for database in (only,) if only else ("SQLite", "PostgreSQL"):
        result = insights.get(database)
        if not result or "skipped" in result:
            print(f"insights pages, {database}: skipped ({(result or {}).get('skipped', 'not run')})")
            continue
        if "pages" not in result:
            print(f"insights, {database}: results of an older bench (no page timings)")
            continue
        target = result["target_seconds"]
        print(f"insights pages, {database}: {result['messages']:,} messages, {result['tickets']:,} tickets over "
              f"{result['days']} days; loaded in {sum(result['load_seconds'].values()):.0f} s; first roll-up "
              f"{result['roll_up']['days']} days in {result['roll_up']['seconds']} s (again: "
              f"{result['roll_up']['again_seconds']} s); load average {result['load_average_before_timing'][0]}")
        periods = list(next(iter(result["pages"].values())))
        print(f"  page = period + previous period + HTML, wall s (best of {result.get('repeats', 3)}), "
              f"target {target:g} s; custom = {MAX_DAYS} days up to today")
        print(f"  {'':<14}" + "".join(f"{kind:>13}" for kind in periods))
        for section, timings in result["pages"].items():
            print(f"  {section:<14}" + "".join(f"{_timing(timings[kind]):>13}" for kind in periods))
        inbox = "; ".join(f"{name} {_timing(value)}" for name, value in result["inbox"].items())
        print(f"  unanswered inbox (open_groups): {inbox}")


def _timing(value: Dict) -> str:
    return f"{value['seconds']:.3f} {value['status']}"
