"""Operator API for the points mall: the catalog (bot/rewards/admin.py), what was redeemed
(bot/rewards/report.py), the warehouse's list of gifts to ship and a batch of them shipped
(bot/rewards/warehouse.py), and a voucher or coupon code used at a store's till
(bot/rewards/fulfil.py). Times are shown, and read, in the brand's time zone."""
from __future__ import annotations

from typing import Any, Callable, Dict

from sanic import Blueprint, response

from bot.db.types import utcnow
from bot.insights.export import csv_bytes
from bot.operator import json_requests
from bot.operator.json_requests import answer
from bot.rewards import admin, report, warehouse
from bot.rewards.fulfil import use_code, used_json
from bot.rewards.admin_fields import RewardError
from bot.settings import Settings


def body_of(request) -> Dict[str, Any]:
    return json_requests.body_of(request, RewardError)


def add_reward_routes(blueprint: Blueprint, operator_only: Callable, settings: Settings) -> None:
    zone = settings.default_timezone

    def shown(session, reward) -> Dict[str, Any]:
        return admin.one_reward_json(session, reward, zone, utcnow())

    @blueprint.route("/api/rewards", methods=["GET"])
    @operator_only
    def list_rewards(request, session, _operator):
        return answer(admin.list_rewards(session, zone, utcnow()))

    @blueprint.route("/api/rewards", methods=["POST"])
    @operator_only
    def create_reward(request, session, operator):
        reward = admin.create_reward(session, operator, body_of(request), zone, utcnow())
        return answer(shown(session, reward), 201)

    @blueprint.route("/api/rewards/<code:str>", methods=["GET"])
    @operator_only
    def show_reward(request, session, _operator, code):
        return answer(shown(session, admin.existing_reward(session, code)))

    @blueprint.route("/api/rewards/<code:str>", methods=["PUT"])
    @operator_only
    def edit_reward(request, session, operator, code):
        reward = admin.edit_reward(session, operator, code, body_of(request), zone, utcnow())
        return answer(shown(session, reward))

    @blueprint.route("/api/rewards/<code:str>", methods=["DELETE"])
    @operator_only
    def delete_reward(request, session, operator, code):
        admin.delete_reward(session, operator, code, zone)
        return answer({"deleted": code})

    @blueprint.route("/api/rewards/<code:str>/pause", methods=["POST"])
    @operator_only
    def pause_reward(request, session, operator, code):
        return answer(shown(session, admin.set_status(session, operator, code, "paused", utcnow())))

    @blueprint.route("/api/rewards/<code:str>/resume", methods=["POST"])
    @operator_only
    def resume_reward(request, session, operator, code):
        return answer(shown(session, admin.set_status(session, operator, code, "active", utcnow())))

    add_redemption_routes(blueprint, operator_only, zone)
    add_fulfilment_routes(blueprint, operator_only, settings)


def add_redemption_routes(blueprint: Blueprint, operator_only: Callable, zone: str) -> None:
    def span(request):
        return report.span_of(request.args, utcnow(), zone)

    @blueprint.route("/api/redemptions", methods=["GET"])
    @operator_only
    def list_redemptions(request, session, _operator):
        return answer(report.redemptions_page(session, span(request), request.args))

    @blueprint.route("/api/redemptions/report", methods=["GET"])
    @operator_only
    def redemptions_report(request, session, _operator):
        return answer(report.report(session, span(request)))

    @blueprint.route("/api/redemptions/report/<file_name:str>", methods=["GET"])
    @operator_only
    def redemptions_report_csv(request, session, _operator, file_name):
        table = file_name[:-4] if file_name.endswith(".csv") else None
        if table not in report.REPORT_TABLES:
            raise RewardError(f"no table {file_name[:60]!r}: by_reward.csv or by_tier.csv", status=404)
        chosen = span(request)
        columns, rows = report.report_table(report.report(session, chosen), table)
        name = f"redemptions-{table}-{chosen.first}-{chosen.last}.csv"
        # as the insights' CSV: a byte-order mark for Excel, no cell read as a formula
        return response.raw(csv_bytes(columns, rows), content_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})


def add_fulfilment_routes(blueprint: Blueprint, operator_only: Callable, settings: Settings) -> None:
    zone = settings.default_timezone

    @blueprint.route("/api/redemptions/to-ship.csv", methods=["GET"])
    @operator_only
    def to_ship_csv(request, session, operator):
        columns, rows = warehouse.to_ship_table(session, operator, request.args, zone)
        name = f"redemptions-to-ship-{utcnow().date()}.csv"
        return response.raw(csv_bytes(columns, rows), content_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @blueprint.route("/api/redemptions/ship", methods=["POST"])
    @operator_only
    def ship_batch(request, session, operator):
        return answer(warehouse.ship_batch(session, operator, body_of(request), settings))

    @blueprint.route("/api/vouchers/<code:str>/use", methods=["POST"])
    @operator_only
    def use_voucher(request, session, operator, code):
        return answer(used_json(use_code(session, code, operator)))
