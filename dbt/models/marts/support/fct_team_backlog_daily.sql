{#- The unsolved backlog per owning team at the end of each UTC day, from the first to the
    last ticket event (int_ticket_backlog_intervals_attributed: a ticket counts for the team
    that owned it at the day's end, '-1' when unknown). The teams' counts add up to
    fct_backlog_daily.backlog_count every day (a test). -#}
with

backlog_intervals as (

    select * from {{ ref('int_ticket_backlog_intervals_attributed') }}
    where owner_kind = 'team'

),

backlog as (

    select * from {{ ref('fct_backlog_daily') }}

),

-- +1 on the day an interval starts, -1 on the day it ends; a running sum per team gives the
-- intervals open at each day's end.
backlog_changes as (

    select
        owner_id as team_id,
        cast(valid_from_at as date) as date_day,
        1 as backlog_change
    from backlog_intervals

    union all

    select
        owner_id as team_id,
        cast(valid_to_at as date) as date_day,
        -1 as backlog_change
    from backlog_intervals
    where valid_to_at is not null

),

daily_changes as (

    select
        team_id,
        date_day,
        sum(backlog_change) as backlog_change
    from backlog_changes
    group by team_id, date_day

),

team_days as (

    select
        teams.team_id,
        backlog.date_day
    from (select distinct team_id from daily_changes) as teams
    cross join backlog

),

final as (

    select
        team_days.team_id,
        team_days.date_day,
        cast(sum(coalesce(daily_changes.backlog_change, 0)) over (
            partition by team_days.team_id
            order by team_days.date_day
            rows between unbounded preceding and current row
        ) as bigint) as backlog_count
    from team_days
    left join daily_changes
        on team_days.team_id = daily_changes.team_id and team_days.date_day = daily_changes.date_day

)

select * from final
