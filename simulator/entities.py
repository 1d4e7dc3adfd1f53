"""The company's slowly changing entities, drawn once per run: customers, teams, agents."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.config import SimulationConfig
from simulator.rng import generator

TEAMS = ("support", "billing", "technical")
TEAM_SHARE = np.array([0.6, 0.25, 0.15])
CUSTOMERS_PER_AGENT = 60


@dataclass(frozen=True)
class Company:
    customer_ids: np.ndarray
    team_ids: np.ndarray
    agent_ids_by_team: tuple[np.ndarray, ...]


def _ids(prefix: str, count: int, width: int) -> np.ndarray:
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, count + 1)], dtype=object)


def draw_company(config: SimulationConfig) -> Company:
    """Draw the company for ``config``; the same settings always give the same company."""
    rng = generator(config.seed, "company")
    agents_total = max(len(TEAMS) * 2, config.customers // CUSTOMERS_PER_AGENT)
    per_team = np.maximum(2, rng.multinomial(agents_total, TEAM_SHARE))
    agents = []
    for team, count in zip(TEAMS, per_team, strict=True):
        agents.append(np.array([f"A-{team}-{i:03d}" for i in range(1, count + 1)], dtype=object))
    return Company(
        customer_ids=_ids("C", config.customers, 7),
        team_ids=np.array(TEAMS, dtype=object),
        agent_ids_by_team=tuple(agents),
    )
