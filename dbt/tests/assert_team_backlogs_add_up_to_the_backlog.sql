-- Every ticket in the backlog is owned by exactly one team (or '-1'), so the teams' backlogs
-- add up to the whole backlog on every day.
-- It reads two models; Dagster shows it as a check of the team backlog (a singular test of
-- several models needs its model named, or it runs as a mere observation with a warning).
{{ config(meta={'dagster': {'ref': {'name': 'fct_team_backlog_daily'}}}) }}
with

team_backlog as (

    select
        date_day,
        sum(backlog_count) as backlog_count
    from {{ ref('fct_team_backlog_daily') }}
    group by date_day

),

backlog as (

    select * from {{ ref('fct_backlog_daily') }}

),

final as (

    select
        backlog.date_day,
        backlog.backlog_count,
        team_backlog.backlog_count as team_backlog_count
    from backlog
    left join team_backlog
        on backlog.date_day = team_backlog.date_day
    where backlog.backlog_count != coalesce(team_backlog.backlog_count, 0)

)

select * from final
