"""The stages of a query plan, as `explain()` gives it: what the plan tests check."""

from __future__ import annotations

from typing import Any


def plan_stages(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Every stage of an explain result's winning plan, its own first."""
    stages: list[dict[str, Any]] = []
    todo = [plan["queryPlanner"]["winningPlan"]]
    while todo:
        stage = todo.pop()
        stages.append(stage)
        todo += [stage["inputStage"]] if "inputStage" in stage else []
        todo += stage.get("inputStages", [])
    return stages


def stage_names(plan: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(stage, index name) of every stage of an explain result's winning plan."""
    return [(str(stage.get("stage")), stage.get("indexName")) for stage in plan_stages(plan)]
