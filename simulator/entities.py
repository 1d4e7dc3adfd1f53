"""The company's slowly changing entities, drawn once per run: customers, teams, agents.

Names, companies and e-mails come from Faker (en_US and nl_NL) drawn once into small pools;
every per-customer attribute is a vectorized NumPy draw from the ``company`` stream.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from simulator.columns import id_array, strings
from simulator.config import SimulationConfig
from simulator.rng import generator

TEAMS = ("support_t1", "support_t2", "billing", "technical", "onboarding", "success")
T1, T2, BILLING, TECHNICAL, ONBOARDING, SUCCESS = range(len(TEAMS))
# Share of new tickets routed to each team (tier 2 mostly receives escalations).
TEAM_SHARE = np.array([0.55, 0.05, 0.15, 0.15, 0.05, 0.05])
# Tickets one agent of the team handles per working day at full utilisation.
TICKETS_PER_AGENT_DAY = np.array([28.0, 14.0, 24.0, 12.0, 16.0, 16.0])
TEAM_SKILLS = ("general", "escalations", "billing", "api,integrations", "setup", "accounts")

SEGMENTS = ("smb", "mid_market", "enterprise")
SEGMENT_SHARE = np.array([0.7, 0.22, 0.08])
SIZE_BANDS = ("1-10", "11-50", "51-200", "201-1000", "1000+")
REGIONS = ("emea", "north_america", "apac")
REGION_SHARE = np.array([0.45, 0.4, 0.15])
COUNTRIES = ("NL", "BE", "DE", "GB", "US", "CA", "AU", "SG")
COUNTRY_REGION = np.array([0, 0, 0, 0, 1, 1, 2, 2])
COUNTRY_TZ = (
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Toronto",
    "Australia/Sydney",
    "Asia/Singapore",
)
COUNTRY_UTC_OFFSET_HOURS = np.array([1, 1, 1, 0, -5, -5, 10, 8])
DUTCH_SPEAKING = np.array([True, True, False, False, False, False, False, False])
PLANS = ("starter", "growth", "pro", "enterprise")
PLAN_PRICE_EUR = np.array([49.0, 149.0, 399.0, 1200.0])
BILLING_PERIODS = ("monthly", "annual")
POOL = 400


@dataclass(frozen=True)
class Company:
    """Customers and agents as parallel arrays (index = entity number)."""

    customer_ids: pa.Array
    segment: np.ndarray
    size_band: np.ndarray
    country: np.ndarray
    signup_day: np.ndarray
    """Day index of sign-up; negative for accounts that existed before the window."""
    plan: np.ndarray
    is_annual: np.ndarray
    discount_pct: np.ndarray
    usage: np.ndarray
    """Product usage (1 = typical); low usage raises churn."""
    friction: np.ndarray
    """How hard this account is to serve well (0 = typical); drives slow tickets and churn."""
    ticket_weight: np.ndarray
    contacts: np.ndarray
    company_pool: np.ndarray
    name_pool: np.ndarray
    pools: dict[str, pa.Array]
    team_ids: pa.Array

    @property
    def size(self) -> int:
        return len(self.segment)


@functools.lru_cache(maxsize=4)
def _faker_pools(seed: int) -> dict[str, pa.Array]:
    """Names, companies and e-mail addresses per locale, drawn once per seed and process
    (Faker is slow per call; the pools do not depend on any other setting)."""
    from faker import Faker

    pools: dict[str, list[str]] = {"company": [], "name": [], "email": []}
    for locale in ("en_US", "nl_NL"):
        fake = Faker(locale)
        fake.seed_instance(seed)
        for _ in range(POOL):
            pools["company"].append(fake.company())
            first, last = fake.first_name(), fake.last_name()
            pools["name"].append(f"{first} {last}")
            user = f"{first}.{last}".lower().replace(" ", "")
            pools["email"].append(f"{user}@{fake.free_email_domain()}")
    return {key: strings(values) for key, values in pools.items()}


def draw_company(config: SimulationConfig) -> Company:
    """Draw the customers for ``config``; the same settings always give the same company."""
    rng = generator(config.seed, "company")
    n = config.customers
    segment = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARE)
    size_band = np.clip(segment * 2 + rng.integers(0, 2, n), 0, len(SIZE_BANDS) - 1)
    region = rng.choice(len(REGIONS), size=n, p=REGION_SHARE)
    country = np.empty(n, dtype=np.int64)
    for r in range(len(REGIONS)):
        options = np.flatnonzero(r == COUNTRY_REGION)
        country[region == r] = rng.choice(options, size=int((region == r).sum()))
    # Most accounts exist before the window; the rest sign up over it, more of them later on.
    existing = rng.random(n) < 0.8
    later = np.sqrt(rng.random(n)) * config.days
    signup_day = np.where(existing, -rng.integers(1, 720, n), later.astype(np.int64))
    plan_base = np.array([0, 1, 2])[segment] + (rng.random(n) < 0.3)
    plan = np.clip(plan_base, 0, len(PLANS) - 1)
    is_annual = rng.random(n) < np.array([0.25, 0.45, 0.7])[segment]
    discount_pct = rng.choice(np.array([0.0, 10.0, 20.0]), size=n, p=[0.8, 0.15, 0.05])
    usage = rng.lognormal(0.0, 0.5, n)
    friction = rng.normal(0.0, 1.0, n)
    ticket_weight = np.array([1.0, 2.5, 6.0])[segment] * np.exp(0.3 * friction)
    contacts = 1 + rng.poisson(np.array([0.5, 1.5, 3.0])[segment])
    dutch = DUTCH_SPEAKING[country]
    company_pool = rng.integers(0, POOL, n) + dutch * POOL
    name_pool = rng.integers(0, POOL, n) + dutch * POOL
    return Company(
        customer_ids=id_array("C", np.arange(1, n + 1), 7),
        segment=segment,
        size_band=size_band,
        country=country,
        signup_day=signup_day,
        plan=plan,
        is_annual=is_annual,
        discount_pct=discount_pct,
        usage=usage,
        friction=friction,
        ticket_weight=ticket_weight,
        contacts=contacts,
        company_pool=company_pool,
        name_pool=name_pool,
        pools=_faker_pools(config.seed),
        team_ids=strings(TEAMS),
    )
