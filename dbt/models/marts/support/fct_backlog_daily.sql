{#- The unsolved backlog at the end of each UTC day and the day's flows, from status
    intervals: created (tickets created that day), solved (moves from unsolved to solved or
    closed, a ticket created already solved included), reopened (solved or closed back to
    unsolved). So backlog = previous backlog + created + reopened - solved, exactly. -#}
with

dates as (

    select * from {{ ref('dim_dates') }}

),

status_intervals as (

    select * from {{ ref('int_ticket_status_intervals_folded') }}

),

ticket_events as (

    select * from {{ ref('stg_lake__ticket_events') }}

),

flows as (

    select
        cast(valid_from_at as date) as date_day,
        sum(case when status_sequence_number = 1 then 1 else 0 end) as tickets_created_count,
        sum(case when is_reopen then 1 else 0 end) as tickets_reopened_count,
        sum(
            case
                when
                    not is_unsolved
                    and (previous_status is null or previous_status in ('new', 'open', 'pending', 'on_hold'))
                    then 1
                else 0
            end
        ) as tickets_solved_count
    from status_intervals
    group by cast(valid_from_at as date)

),

window_bounds as (

    select
        min(cast(occurred_at as date)) as first_date,
        max(cast(occurred_at as date)) as last_date
    from ticket_events

),

days as (

    select dates.date_day
    from dates
    inner join window_bounds
        on dates.date_day between window_bounds.first_date and window_bounds.last_date

),

-- The backlog as a running sum of its changes (+1 when an unsolved interval starts, -1 on the
-- day it ends): the count of intervals open at each day's end, without a range join of every
-- day against every interval.
backlog_changes as (

    select
        cast(valid_from_at as date) as date_day,
        1 as backlog_change
    from status_intervals
    where is_unsolved

    union all

    select
        cast(valid_to_at as date) as date_day,
        -1 as backlog_change
    from status_intervals
    where is_unsolved and valid_to_at is not null

),

daily_backlog_changes as (

    select
        date_day,
        sum(backlog_change) as backlog_change
    from backlog_changes
    group by date_day

),

backlog as (

    select
        days.date_day,
        sum(coalesce(daily_backlog_changes.backlog_change, 0)) over (
            order by days.date_day rows between unbounded preceding and current row
        ) as backlog_count
    from days
    left join daily_backlog_changes
        on days.date_day = daily_backlog_changes.date_day

),

final as (

    select
        backlog.date_day,
        cast(backlog.backlog_count as bigint) as backlog_count,
        cast(coalesce(flows.tickets_created_count, 0) as bigint) as tickets_created_count,
        cast(coalesce(flows.tickets_reopened_count, 0) as bigint) as tickets_reopened_count,
        cast(coalesce(flows.tickets_solved_count, 0) as bigint) as tickets_solved_count,
        cast(
            coalesce(lag(backlog.backlog_count) over (order by backlog.date_day), 0) as bigint
        ) as previous_backlog_count
    from backlog
    left join flows
        on backlog.date_day = flows.date_day

)

select * from final
