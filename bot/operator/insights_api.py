"""Operator API for the insights figures (bot/insights/sections.py): each section as JSON,
each of its tables and daily series as CSV, for a period given by `period`, `date`, `from`
and `to`; the people section for one team with `team` (every team by default)."""
from __future__ import annotations

from typing import Callable

from sanic import Blueprint

from bot.insights.export import csv_answer, json_answer, json_error, series_csv_answer, team_scope
from bot.insights.scope import ScopeError
from bot.settings import Settings


def add_insights_routes(blueprint: Blueprint, operator_only: Callable, settings: Settings) -> None:
    @blueprint.route("/api/insights/<section:str>", methods=["GET"])
    @operator_only
    async def insights_section(request, session, operator, section):
        try:
            scope = team_scope(session, request, section, operator)
        except ScopeError as error:
            return json_error(error)
        return await json_answer(request, section, settings, scope)

    @blueprint.route("/api/insights/<section:str>/<file_name:str>", methods=["GET"])
    @operator_only
    async def insights_table(request, session, operator, section, file_name):
        try:
            scope = team_scope(session, request, section, operator)
        except ScopeError as error:
            return json_error(error)
        return await csv_answer(request, section, file_name, settings, scope)

    @blueprint.route("/api/insights/<section:str>/series/<file_name:str>", methods=["GET"])
    @operator_only
    async def insights_series(request, session, operator, section, file_name):
        try:
            scope = team_scope(session, request, section, operator)
        except ScopeError as error:
            return json_error(error)
        return await series_csv_answer(request, section, file_name, settings, scope)
