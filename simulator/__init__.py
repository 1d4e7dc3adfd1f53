"""The simulator: a service organisation's events, fast, deterministic, with its own truth.

Layout: ``config`` (settings and injectable effects), ``rng`` (one named stream per
(stream, day)), ``entities`` (customers drawn once, Faker pools), ``timeline`` (demand curves,
staffing and backlog, agents, every subscription's history: computed once per run),
``events/`` (one generator per stream and day, NumPy codes), ``columns`` (codes to Arrow),
``events/finish`` (event ids, arrival times, delivery faults), ``run`` (chunked backfill on a
fixed grid of days, in one or more processes; ``simulate_days`` rewrites the chunks of chosen
days; truth), ``live`` (emission on a real or accelerated clock).

Staff keep hours: each agent works five days a week (their days off rotate) on a shift from
08:00 to 16:30 in their time zone (Amsterdam, London or New York). A ticket goes to the zone whose
hours come first and an agent of its team working that day; the waits to the replies and solves
are drawn in working time (``World.after_working``), so work arriving at night or at a weekend
waits for the next shift, and the agent-day marts see replies only in shifts.

Entry points: ``simulate(config, lake, replace=, on_day=)``, ``simulate_days(config, lake,
day_indexes)``, ``live(config, lake, speed=)``, ``generate_day(build_world(config), day)``.

Truth beside the lake (``lake/truth/``): ``tickets``, ``survey_responses``, ``conversations``,
``daily`` (per-day measures: backlog, flows, agents' work, automation, the knowledge base),
``deliveries`` (per stream: events, deliveries, late first deliveries, the last event and
receipt), ``customer_changes`` and ``agent_changes`` (the events setting their attributes),
``invoices``, ``mrr_monthly``, ``churn``, ``onboarding``, ``effects`` and ``defects`` (counts of
duplicates, late and malformed records per batch; malformed ones are JSON lines in
``<home>/inbox/simulator/``).
"""
