"""Logo and revenue retention and MRR by cohort for the next two quarters, with intervals."""

import pandas as pd

from planning.features import monthly_mrr
from planning.frames import typed
from planning.retention import forecast_retention

COLUMNS = {
    "cohort_month": "date",
    "plan_id": "varchar",
    "month_start_date": "date",
    "horizon_month": "integer",
    "forecast_logo_count": "double",
    "logo_lower_80": "double",
    "logo_upper_80": "double",
    "forecast_mrr_amount": "double",
    "mrr_lower_80": "double",
    "mrr_upper_80": "double",
    "logo_retention": "double",
    "revenue_retention": "double",
}


def model(dbt, session):
    dbt.config(materialized="table", schema="planning")
    # Referenced for lineage and build order; planning.features reads them (invoices tell
    # annual plans, which only renew once a year, from monthly ones).
    dbt.ref("fct_mrr_monthly")
    dbt.ref("fct_invoices")
    mrr = monthly_mrr(session, "marts")
    if mrr is None or mrr.empty:
        return typed(pd.DataFrame(), COLUMNS)
    return typed(forecast_retention(mrr, horizon_months=6), COLUMNS)
