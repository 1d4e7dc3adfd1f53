{#- Per agent and UTC day with any activity. Solves count for the agent named on the solve
    event, else the ticket's assignee then, else the last agent who acted on the ticket (the
    simulator's help desk has no explicit assignment). A reopen counts against the agent whose
    solve it undid. CSAT is by response day for the agent at rating time. Scheduled minutes
    are shift start to shift end (by the shift's start day); occupied minutes are time in
    agent_status 'busy' (by the interval's start day); occupancy = occupied / scheduled. The
    team is the agent's team on that day (dim_agents history). -#}
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
        agent_id,
        cast(solved_at as date) as activity_date,
        count(*) as tickets_solved_count
    from solves
    where agent_id is not null
    group by agent_id, cast(solved_at as date)

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

final as (

    select
        agent_days.agent_id,
        coalesce(max(agents.team_id), '-1') as team_id,
        agent_days.activity_date,
        cast(coalesce(max(solved.tickets_solved_count), 0) as bigint) as tickets_solved_count,
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
    group by agent_days.agent_id, agent_days.activity_date

)

select * from final
