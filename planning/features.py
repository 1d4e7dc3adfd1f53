"""Inputs the planning models read from the warehouse's marts (one place for the SQL).

Each function takes a DuckDB connection (or dbt's session) whose ``marts`` schema holds the
marts, and returns a pandas DataFrame. A mart that does not exist yet gives ``None``, so a
caller can say what is missing instead of failing.
"""

from __future__ import annotations

import pandas as pd

DAILY_CONTACTS_SQL = """
select 'ticket' as contact_type, team_id, channel, created_date as date_day,
    count(*) as contact_count
from {schema}.fct_tickets
group by all
{conversations}
"""

# Only conversations a person answered are agents' work: the bot's own resolutions need no staff.
CONVERSATIONS_SQL = """
union all
select 'conversation' as contact_type, coalesce(team_id, 'unassigned') as team_id,
    channel, started_date as date_day, count(*) as contact_count
from {schema}.fct_conversations
where agent_message_count > 0 or is_handed_off
group by all
"""

HORIZON_DAYS = 90

# The snapshot dates: each month's last day from the third month of tickets on (a snapshot
# looks back 90 days), up to the last ticket's day. Stepped as month starts less a day:
# stepping month ends by a month drifts (31 March, 30 April, 30 May, ...).
SNAPSHOT_DATES_SQL = """
select cast(month_start - interval 1 day as date) as snapshot_date
from (
    select min(created_date) as first_date, max(created_date) as last_date
    from {schema}.fct_tickets
) as bounds,
    unnest(generate_series(
        cast(date_trunc('month', first_date) + interval 3 month as date),
        cast(last_date + interval 1 day as date), interval 1 month)) as spine (month_start)
"""

# Account snapshots at each month end: trailing-90-day support experience, payments and
# onboarding, and whether the account churned within the next 90 days.
SNAPSHOTS_SQL = """
with
snapshots as ({snapshot_dates}),
customers as (select distinct customer_id from {schema}.fct_mrr_monthly),
churn as (
    select customer_id, min(churned_date) as churned_date
    from {schema}.fct_customer_churn group by customer_id
),
grid as (
    select customers.customer_id, snapshots.snapshot_date, churn.churned_date
    from customers cross join snapshots
    left join churn on churn.customer_id = customers.customer_id
    -- Scores stop at churn: no snapshot on or after an account's churn date.
    where churn.churned_date is null or churn.churned_date > snapshots.snapshot_date
),
tickets as (
    select grid.customer_id, grid.snapshot_date,
        count(fct_tickets.ticket_id) * 30.0 / 90 as tickets_per_30_days,
        median(fct_tickets.full_resolution_calendar_minutes) / 60 as median_resolution_hours,
        median(fct_tickets.first_reply_calendar_minutes) / 60 as median_first_reply_hours,
        avg(fct_tickets.reopen_count) as mean_reopen_count
    from grid
    left join {schema}.fct_tickets
        on fct_tickets.customer_id = grid.customer_id
        and fct_tickets.created_date > grid.snapshot_date - interval 90 day
        and fct_tickets.created_date <= grid.snapshot_date
    group by all
),
surveys as (
    select grid.customer_id, grid.snapshot_date,
        100.0 * avg(case when survey_type = 'csat' then cast(is_satisfied as int) end)
            as csat_pct,
        avg(case when survey_type = 'nps' then nps_points end) as nps_score
    from grid
    inner join {schema}.fct_survey_responses as responses
        on responses.customer_id = grid.customer_id
        and responses.responded_date > grid.snapshot_date - interval 90 day
        and responses.responded_date <= grid.snapshot_date
    group by all
),
payments as (
    select grid.customer_id, grid.snapshot_date,
        sum(coalesce(failed_payment_count, 0)) as payment_failure_count
    from grid
    inner join {schema}.fct_invoices as invoices
        on invoices.customer_id = grid.customer_id
        and invoices.issued_date > grid.snapshot_date - interval 90 day
        and invoices.issued_date <= grid.snapshot_date
    group by all
),
billing as (
    select grid.customer_id, grid.snapshot_date,
        arg_max(mrr.mrr_amount, mrr.month_start_date) as mrr_amount,
        min(mrr.month_start_date) as first_month_start_date,
        arg_max(mrr.mrr_amount, mrr.month_start_date)
            / nullif(arg_min(mrr.mrr_amount, mrr.month_start_date)
                filter (where mrr.month_start_date >= grid.snapshot_date - interval 90 day), 0)
            as mrr_ratio_90_days
    from grid
    inner join {schema}.fct_mrr_monthly as mrr
        on mrr.customer_id = grid.customer_id
        and mrr.month_start_date <= grid.snapshot_date
        and mrr.mrr_amount > 0
    group by all
),
renewals as (
    -- The latest invoice by the snapshot, and whether it billed a year (annual plan).
    select grid.customer_id, grid.snapshot_date,
        arg_max(invoices.issued_date, invoices.issued_date) as last_invoice_date,
        arg_max(invoices.invoiced_amount / nullif(mrr.mrr_amount, 0), invoices.issued_date)
            >= 6 as is_annual
    from grid
    inner join {schema}.fct_invoices as invoices
        on invoices.customer_id = grid.customer_id
        and invoices.issued_date <= grid.snapshot_date
    inner join {schema}.fct_mrr_monthly as mrr
        on mrr.customer_id = invoices.customer_id
        and mrr.month_start_date = date_trunc('month', invoices.issued_date)
    group by all
),
onboarding as (
    select grid.customer_id, grid.snapshot_date,
        100.0 * count(distinct milestone) filter (where reached_at <= grid.snapshot_date)
            / nullif((select count(distinct milestone) from {schema}.fct_onboarding), 0)
            as onboarding_completion_pct
    from grid
    inner join {schema}.fct_onboarding as milestones
        on milestones.customer_id = grid.customer_id
    group by all
)
select grid.customer_id, grid.snapshot_date, grid.churned_date,
    cast(grid.snapshot_date + interval {horizon} day as date) as label_known_date,
    coalesce(grid.churned_date <= grid.snapshot_date + interval {horizon} day, false)
        as is_churned_within_horizon,
    coalesce(payments.payment_failure_count, 0) as payment_failure_count,
    surveys.csat_pct, surveys.nps_score,
    tickets.median_resolution_hours, tickets.tickets_per_30_days,
    cast(null as double) as self_service_share,
    onboarding.onboarding_completion_pct,
    tickets.median_first_reply_hours, tickets.mean_reopen_count,
    billing.mrr_amount, billing.mrr_ratio_90_days,
    datediff('day', billing.first_month_start_date, grid.snapshot_date) as tenure_days,
    -- A plan can only be cancelled at its renewal: monthly plans renew within any horizon,
    -- annual ones only when the year since their invoice ends within it; unknown without one.
    case
        when not renewals.is_annual then 1.0
        when renewals.is_annual
            then cast(renewals.last_invoice_date + interval 365 day
                <= grid.snapshot_date + interval {horizon} day as double)
    end as renewal_due_share,
    cast(grid.snapshot_date + interval 30 day as date) as month_label_known_date,
    coalesce(grid.churned_date <= grid.snapshot_date + interval 30 day, false)
        as is_churned_within_30_days
from grid
left join tickets using (customer_id, snapshot_date)
left join surveys using (customer_id, snapshot_date)
left join payments using (customer_id, snapshot_date)
left join onboarding using (customer_id, snapshot_date)
left join billing using (customer_id, snapshot_date)
left join renewals using (customer_id, snapshot_date)
"""


MONTHLY_MRR_SQL = """
with invoiced as (
    select customer_id, cast(date_trunc('month', issued_date) as date) as month_start_date,
        sum(invoiced_amount) as invoiced_amount
    from {schema}.fct_invoices
    group by all
)
select mrr.customer_id, mrr.month_start_date, mrr.mrr_amount, 'all' as plan_id,
    round(cast(invoiced.invoiced_amount / mrr.mrr_amount as double), 1) as invoiced_months
from {schema}.fct_mrr_monthly as mrr
left join invoiced using (customer_id, month_start_date)
where mrr.mrr_amount > 0
"""


def _exists(connection, schema: str, table: str) -> bool:
    found = connection.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()[0]
    return bool(found)


def daily_contacts(connection, schema: str = "marts") -> pd.DataFrame:
    """Contacts per type (ticket, conversation), team, channel and day."""
    conversations = (
        CONVERSATIONS_SQL.format(schema=schema)
        if _exists(connection, schema, "fct_conversations")
        else ""
    )
    sql = DAILY_CONTACTS_SQL.format(schema=schema, conversations=conversations)
    return connection.execute(sql).df()


SNAPSHOT_MARTS = (
    "fct_tickets",
    "fct_mrr_monthly",
    "fct_customer_churn",
    "fct_survey_responses",
    "fct_invoices",
    "fct_onboarding",
)


def account_snapshots(connection, schema: str = "marts") -> pd.DataFrame | None:
    """Monthly account snapshots with health inputs and the churn label; None while a mart
    they need is missing."""
    if not all(_exists(connection, schema, table) for table in SNAPSHOT_MARTS):
        return None
    dates = SNAPSHOT_DATES_SQL.format(schema=schema)
    return connection.execute(
        SNAPSHOTS_SQL.format(schema=schema, horizon=HORIZON_DAYS, snapshot_dates=dates)
    ).df()


def monthly_mrr(connection, schema: str = "marts") -> pd.DataFrame | None:
    """MRR per customer and month (plan_id 'all' until the mart carries the plan), with
    ``invoiced_months``: the months of MRR invoiced that month (1 monthly, 12 annual; null
    without an invoice), from which the retention forecast tells annual plans apart."""
    if not _exists(connection, schema, "fct_mrr_monthly"):
        return None
    invoices = _exists(connection, schema, "fct_invoices")
    return connection.execute(
        MONTHLY_MRR_SQL.format(schema=schema)
        if invoices
        else (
            f"select customer_id, month_start_date, mrr_amount, 'all' as plan_id, "
            f"cast(null as double) as invoiced_months "
            f"from {schema}.fct_mrr_monthly where mrr_amount > 0"
        )
    ).df()
