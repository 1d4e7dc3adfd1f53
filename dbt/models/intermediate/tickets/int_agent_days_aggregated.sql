{#- fct_agent_daily's rows (see its description), kept incrementally by day: a build
    recomputes every agent-day from the first day new events can change, and delete+insert
    replaces those days. That first day is the earliest of: the date of any event received
    since this table's latest receipt less the look-back (ticket, agent and survey events);
    the first status interval of each ticket with such an event (its solves, reopens, solve
    work and backlog intervals all start on or after it; a CSAT response follows its
    ticket's creation); and, for each agent with such an event, the start of the shift it
    names and of the agent status interval it closes. Days before it keep their rows: no new
    event can reach them. Backlog owned is a running count, so intervals that began earlier
    count from the day before the first recomputed day. last_received_at: the latest receipt
    of the day's events (its maximum is the watermark).
    A day none of whose activity remains would keep its old rows; events are append-only,
    so only a day whose sole activity was a solve that a late status event moved away could. -#}
{{ config(
    materialized='incremental',
    unique_key='activity_date',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

{% if is_incremental() %}
watermark as (

    select {{ lookback_start('last_received_at') }} as since_at

),

new_ticket_events as (

    select
        ticket_id,
        occurred_at
    from {{ ref('stg_lake__ticket_events') }}
    where received_at > (select since_at from watermark)

),

new_agent_events as (

    select
        agent_id,
        event_type,
        shift_id,
        occurred_at
    from {{ ref('stg_lake__agent_events') }}
    where received_at > (select since_at from watermark)

),

first_new_status_events as (

    select
        agent_id,
        min(occurred_at) as first_new_at
    from new_agent_events
    where event_type = 'agent.status_changed'
    group by agent_id

),

-- The earliest instant new events can change: see the header.
recompute_from as (

    select cast(min(changed_at) as date) as from_date
    from (
        select min(occurred_at) as changed_at from new_ticket_events
        union all
        select min(occurred_at) as changed_at from new_agent_events
        union all
        select min(occurred_at) as changed_at
        from {{ ref('stg_lake__survey_events') }}
        where received_at > (select since_at from watermark)
        union all
        select min(valid_from_at) as changed_at
        from {{ ref('int_ticket_status_intervals_folded') }}
        where ticket_id in (select ticket_id from new_ticket_events)
        union all
        select min(agent_events.occurred_at) as changed_at
        from {{ ref('stg_lake__agent_events') }} as agent_events
        where
            agent_events.event_type = 'agent.shift_started'
            and agent_events.shift_id in (
                select shift_id from new_agent_events where shift_id is not null
            )
        union all
        select min(previous_status.previous_at) as changed_at
        from (
            select max(agent_events.occurred_at) as previous_at
            from {{ ref('stg_lake__agent_events') }} as agent_events
            inner join first_new_status_events
                on
                    agent_events.agent_id = first_new_status_events.agent_id
                    and agent_events.occurred_at < first_new_status_events.first_new_at
            where agent_events.event_type = 'agent.status_changed'
            group by agent_events.agent_id
        ) as previous_status
    ) as changes

),
{% endif %}

-- Without new events (from_date null) an incremental build recomputes nothing; a full build
-- recomputes every day.
{%- set first_day = (
    '(select recompute_from.from_date from recompute_from)' if is_incremental()
    else "cast('1900-01-01' as date)"
) %}
recompute as (

    select coalesce({{ first_day }}, cast('9999-12-31' as date)) as from_date

),

ticket_events as (

    select * from {{ ref('stg_lake__ticket_events') }}
    where occurred_at >= (select recompute.from_date from recompute)

),

agent_events as (

    select * from {{ ref('stg_lake__agent_events') }}
    where occurred_at >= (select recompute.from_date from recompute)

),

-- Every interval of the tickets with a status change in the window: a solve's work and a
-- reopen's solver need the ticket's earlier intervals.
status_intervals as (

    select * from {{ ref('int_ticket_status_intervals_folded') }}
    {%- if is_incremental() %}
    where ticket_id in (
        select ticket_id from {{ ref('int_ticket_status_intervals_folded') }}
        where valid_from_at >= (select recompute.from_date from recompute)
    )
    {%- endif %}

),

assignments as (

    select * from {{ ref('int_ticket_assignments_folded') }}
    {%- if is_incremental() %}
    where ticket_id in (select ticket_id from status_intervals)
    {%- endif %}

),

tickets as (

    select * from {{ ref('int_ticket_events_pivoted_to_tickets') }}
    {%- if is_incremental() %}
    where ticket_id in (select ticket_id from status_intervals)
    {%- endif %}

),

surveys as (

    select * from {{ ref('fct_survey_responses') }}
    where responded_date >= (select recompute.from_date from recompute)

),

agents as (

    select * from {{ ref('dim_agents') }}

),

agent_backlog_intervals as (

    select * from {{ ref('int_ticket_backlog_intervals_attributed') }}
    where
        owner_kind = 'agent'
        and (valid_to_at is null or cast(valid_to_at as date) >= (select recompute.from_date from recompute))

),

solves as (

    select
        status_intervals.ticket_id,
        status_intervals.valid_from_at as solved_at,
        status_intervals.status_sequence_number,
        coalesce(
            max_by(assignments.agent_id, assignments.assignment_sequence_number),
            max(tickets.agent_id)
        ) as agent_id
    from status_intervals
    left join assignments
        on
            status_intervals.ticket_id = assignments.ticket_id
            and status_intervals.valid_from_at >= assignments.valid_from_at
    left join tickets
        on status_intervals.ticket_id = tickets.ticket_id
    where status_intervals.status = 'solved'
    group by
        status_intervals.ticket_id, status_intervals.valid_from_at, status_intervals.status_sequence_number

),

-- Agent work minutes accumulated along each ticket's statuses; a solve's work is what
-- accumulated since the ticket's previous solve.
cumulative_work as (

    select
        ticket_id,
        status_sequence_number,
        status,
        sum(
            case
                when status in ('new', 'open') and valid_to_at is not null
                    then {{ elapsed_minutes('valid_from_at', 'valid_to_at') }}
                else 0
            end
        ) over (
            partition by ticket_id
            order by status_sequence_number
            rows between unbounded preceding and current row
        ) as cumulative_work_minutes
    from status_intervals

),

solve_work as (

    select
        ticket_id,
        status_sequence_number,
        cumulative_work_minutes - coalesce(
            lag(cumulative_work_minutes) over (
                partition by ticket_id order by status_sequence_number
            ),
            0
        ) as solve_work_minutes
    from cumulative_work
    where status = 'solved'

),

reopens as (

    select
        solves.agent_id,
        cast(status_intervals.valid_from_at as date) as activity_date,
        count(*) as reopened_count
    from status_intervals
    inner join solves
        on
            status_intervals.ticket_id = solves.ticket_id
            and status_intervals.status_sequence_number = solves.status_sequence_number + 1
    where
        status_intervals.is_reopen
        and status_intervals.valid_from_at >= (select recompute.from_date from recompute)
    group by solves.agent_id, cast(status_intervals.valid_from_at as date)

),

replies as (

    select
        agent_id,
        cast(occurred_at as date) as activity_date,
        count(*) as public_reply_count,
        count(distinct ticket_id) as tickets_replied_count
    from ticket_events
    where event_type = 'ticket.commented' and author_type = 'agent' and is_public and agent_id is not null
    group by agent_id, cast(occurred_at as date)

),

solved as (

    select
        solves.agent_id,
        cast(solves.solved_at as date) as activity_date,
        count(*) as tickets_solved_count,
        sum(solve_work.solve_work_minutes) as solve_work_minutes
    from solves
    left join solve_work
        on
            solves.ticket_id = solve_work.ticket_id
            and solves.status_sequence_number = solve_work.status_sequence_number
    where
        solves.agent_id is not null
        and solves.solved_at >= (select recompute.from_date from recompute)
    group by solves.agent_id, cast(solves.solved_at as date)

),

csat as (

    select
        agent_id,
        responded_date as activity_date,
        count(*) as csat_response_count,
        sum(case when is_satisfied then 1 else 0 end) as csat_satisfied_count
    from surveys
    where survey_type = 'csat'
    group by agent_id, responded_date

),

shift_bounds as (

    select
        agent_id,
        shift_id,
        min(case when event_type = 'agent.shift_started' then occurred_at end) as started_at,
        max(case when event_type = 'agent.shift_ended' then occurred_at end) as ended_at
    from agent_events
    where event_type in ('agent.shift_started', 'agent.shift_ended')
    group by agent_id, shift_id

),

shifts as (

    select
        agent_id,
        cast(started_at as date) as activity_date,
        sum({{ elapsed_minutes('started_at', 'ended_at') }}) as scheduled_minutes
    from shift_bounds
    where started_at is not null and ended_at is not null
    group by agent_id, cast(started_at as date)

),

agent_statuses as (

    select
        agent_id,
        agent_status,
        occurred_at as valid_from_at,
        lead(occurred_at) over (partition by agent_id order by occurred_at, event_id) as valid_to_at
    from agent_events
    where event_type = 'agent.status_changed'

),

occupied as (

    select
        agent_id,
        cast(valid_from_at as date) as activity_date,
        sum({{ elapsed_minutes('valid_from_at', 'valid_to_at') }}) as occupied_minutes
    from agent_statuses
    where agent_status = 'busy' and valid_to_at is not null
    group by agent_id, cast(valid_from_at as date)

),

agent_days as (

    select
        agent_id,
        activity_date
    from replies
    union
    select
        agent_id,
        activity_date
    from solved
    union
    select
        agent_id,
        activity_date
    from reopens
    where agent_id is not null
    union
    select
        agent_id,
        activity_date
    from csat
    union
    select
        agent_id,
        activity_date
    from shifts
    union
    select
        agent_id,
        activity_date
    from occupied

),

-- Backlog owned as a running sum per agent of +1 (an owned backlog interval starts) and -1
-- (it ends), evaluated on the agent's days; zero changes on those days keep them in the sum.
agent_backlog_changes as (

    -- An interval begun before the window counts from the day before it (a running count).
    select
        owner_id as agent_id,
        greatest(
            cast(valid_from_at as date),
            cast({{ dbt.dateadd('day', -1, '(select recompute.from_date from recompute)') }} as date)
        ) as activity_date,
        1 as backlog_change
    from agent_backlog_intervals
    union all
    select
        owner_id as agent_id,
        cast(valid_to_at as date) as activity_date,
        -1 as backlog_change
    from agent_backlog_intervals
    where valid_to_at is not null
    union all
    select
        agent_id,
        activity_date,
        0 as backlog_change
    from agent_days

),

backlog_owned as (

    select
        agent_id,
        activity_date,
        sum(sum(backlog_change)) over (
            partition by agent_id
            order by activity_date
            rows between unbounded preceding and current row
        ) as backlog_owned_count
    from agent_backlog_changes
    group by agent_id, activity_date

),

-- The latest receipt among the events that occurred on each day (every agent-day has one:
-- each of its measures comes from an event on that day). Its maximum is the watermark; per
-- day, it depends only on the events, so a day kept from an earlier build equals a rebuilt one.
day_receipts as (

    select
        cast(occurred_at as date) as activity_date,
        max(received_at) as last_received_at
    from (
        select
            occurred_at,
            received_at
        from ticket_events
        union all
        select
            occurred_at,
            received_at
        from agent_events
        union all
        select
            occurred_at,
            received_at
        from {{ ref('stg_lake__survey_events') }}
        where occurred_at >= (select recompute.from_date from recompute)
    ) as events
    group by cast(occurred_at as date)

),

final as (

    select
        agent_days.agent_id,
        coalesce(max(agents.team_id), '-1') as team_id,
        agent_days.activity_date,
        cast(coalesce(max(solved.tickets_solved_count), 0) as bigint) as tickets_solved_count,
        coalesce(max(solved.solve_work_minutes), 0) as solve_work_minutes,
        case
            when max(solved.tickets_solved_count) > 0
                then max(solved.solve_work_minutes) / max(solved.tickets_solved_count)
        end as average_solve_work_minutes,
        case
            when max(replies.tickets_replied_count) > 0
                then max(occupied.occupied_minutes) / max(replies.tickets_replied_count)
        end as average_handle_minutes,
        cast(coalesce(max(backlog_owned.backlog_owned_count), 0) as bigint) as backlog_owned_count,
        cast(coalesce(max(replies.public_reply_count), 0) as bigint) as public_reply_count,
        cast(coalesce(max(replies.tickets_replied_count), 0) as bigint) as tickets_replied_count,
        cast(coalesce(max(reopens.reopened_count), 0) as bigint) as solves_reopened_count,
        cast(coalesce(max(csat.csat_response_count), 0) as bigint) as csat_response_count,
        cast(coalesce(max(csat.csat_satisfied_count), 0) as bigint) as csat_satisfied_count,
        max(shifts.scheduled_minutes) as scheduled_minutes,
        max(occupied.occupied_minutes) as occupied_minutes,
        case
            when max(shifts.scheduled_minutes) > 0 then
                max(occupied.occupied_minutes) / max(shifts.scheduled_minutes)
        end as occupancy_rate,
        max(day_receipts.last_received_at) as last_received_at
    from agent_days
    left join day_receipts
        on agent_days.activity_date = day_receipts.activity_date
    left join agents
        on
            agent_days.agent_id = agents.agent_id
            and agents.valid_from_at
            < {{ dbt.dateadd('day', 1, 'cast(agent_days.activity_date as timestamp)') }}
            and (
                agents.valid_to_at is null
                or agents.valid_to_at
                >= {{ dbt.dateadd('day', 1, 'cast(agent_days.activity_date as timestamp)') }}
            )
    left join solved
        on agent_days.agent_id = solved.agent_id and agent_days.activity_date = solved.activity_date
    left join replies
        on agent_days.agent_id = replies.agent_id and agent_days.activity_date = replies.activity_date
    left join reopens
        on agent_days.agent_id = reopens.agent_id and agent_days.activity_date = reopens.activity_date
    left join csat
        on agent_days.agent_id = csat.agent_id and agent_days.activity_date = csat.activity_date
    left join shifts
        on agent_days.agent_id = shifts.agent_id and agent_days.activity_date = shifts.activity_date
    left join occupied
        on agent_days.agent_id = occupied.agent_id and agent_days.activity_date = occupied.activity_date
    left join backlog_owned
        on
            agent_days.agent_id = backlog_owned.agent_id
            and agent_days.activity_date = backlog_owned.activity_date
    group by agent_days.agent_id, agent_days.activity_date

)

select * from final
