{#- Per agent and UTC day with any activity. Solves count for the agent named on the solve
    event, else the ticket's assignee then, else the last agent who acted on the ticket (the
    simulator's help desk has no explicit assignment). A reopen counts against the agent whose
    solve it undid. CSAT is by response day for the agent at rating time. Scheduled minutes
    are shift start to shift end (by the shift's start day); occupied minutes are time in
    agent_status 'busy' (by the interval's start day); occupancy = occupied / scheduled. The
    team is the agent's team on that day (dim_agents history). Solve work: each solve is
    credited with the ticket's agent work time (calendar minutes in new or open, as
    fct_tickets.agent_work_calendar_minutes) since its previous solve or creation, on the
    solve's day, to the solve's agent; a ticket's solves together carry exactly its agent
    work time. It is elapsed time, not effort. Handle time is effort: the agent's busy
    minutes per ticket worked (replied to) that day, the contact centre's AHT. Backlog owned: the unsolved tickets the agent owned at the day's end
    (int_ticket_backlog_intervals_attributed: the last agent who acted owns the ticket). -#}
with

ticket_events as (

    select * from {{ ref('stg_lake__ticket_events') }}

),

agent_events as (

    select * from {{ ref('stg_lake__agent_events') }}

),

status_intervals as (

    select * from {{ ref('int_ticket_status_intervals_folded') }}

),

assignments as (

    select * from {{ ref('int_ticket_assignments_folded') }}

),

tickets as (

    select * from {{ ref('int_ticket_events_pivoted_to_tickets') }}

),

surveys as (

    select * from {{ ref('fct_survey_responses') }}

),

agents as (

    select * from {{ ref('dim_agents') }}

),

agent_backlog_intervals as (

    select * from {{ ref('int_ticket_backlog_intervals_attributed') }}
    where owner_kind = 'agent'

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
    where status_intervals.is_reopen
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
    where solves.agent_id is not null
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

    select
        owner_id as agent_id,
        cast(valid_from_at as date) as activity_date,
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
        end as occupancy_rate
    from agent_days
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
