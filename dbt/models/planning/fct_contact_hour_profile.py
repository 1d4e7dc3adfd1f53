"""Share of each team's and channel's contacts per UTC hour of the week, for staffing."""

from planning.forecast import hour_of_week_profile
from planning.frames import typed

COLUMNS = {
    "contact_type": "varchar",
    "team_id": "varchar",
    "channel": "varchar",
    "day_of_week": "integer",
    "hour_of_day": "integer",
    "contact_count": "bigint",
    "share": "double",
}


def model(dbt, session):
    dbt.config(materialized="table", schema="planning")
    # Referenced for lineage and build order; read by name below (one union query).
    dbt.ref("fct_tickets")
    dbt.ref("fct_conversations")
    contacts = session.execute(
        "select 'ticket' as contact_type, team_id, channel, created_at from marts.fct_tickets "
        "union all "
        "select 'conversation' as contact_type, coalesce(team_id, 'unassigned') as team_id, "
        "channel, started_at as created_at from marts.fct_conversations"
    ).df()
    profile = hour_of_week_profile(contacts, ["contact_type", "team_id", "channel"])
    return typed(profile, COLUMNS)
