"""Operator API for the insights figures (bot/insights/sections.py): each section as JSON
and each of its tables as CSV, for a period given by `period`, `date`, `from` and `to`."""
from __future__ import annotations

from typing import Callable

from sanic import Blueprint

from bot.insights.export import csv_answer, json_answer
from bot.settings import Settings


def add_insights_routes(blueprint: Blueprint, operator_only: Callable, settings: Settings) -> None:
    @blueprint.route("/api/insights/<section:str>", methods=["GET"])
    @operator_only
    async def insights_section(request, _session, _operator, section):
        return await json_answer(request, section, settings)

    @blueprint.route("/api/insights/<section:str>/<file_name:str>", methods=["GET"])
    @operator_only
    async def insights_table(request, _session, _operator, section, file_name):
        return await csv_answer(request, section, file_name, settings)
