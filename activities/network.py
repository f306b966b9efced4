"""Who a proven pilot is offered to: the network's members, read when the rollout starts."""

from __future__ import annotations

import asyncpg
from temporalio import activity

from activities.contracts import RolloutTargets, RolloutTargetsRequest
from eventstore import programme


class NetworkActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn(name="rollout_targets")
    async def rollout_targets(self, req: RolloutTargetsRequest) -> RolloutTargets:
        members = await programme.members(self.pool)
        return RolloutTargets(members=[m for m in members if m.lgcode != req.host_town.lgcode])
