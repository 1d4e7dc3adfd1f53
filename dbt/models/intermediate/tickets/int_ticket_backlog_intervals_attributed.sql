{#- Each ticket's time in the backlog (an unsolved status) split by who owned it then, as
    intervals [valid_from_at, valid_to_at) with owner_kind 'team' or 'agent' and owner_id.
    The owning team is the assignment history's team (ticket.created, assigned, escalated;
    '-1' when unknown), so a ticket escalated while open moves to the new team's backlog at
    the escalation, not at its next status change. The owning agent is the agent named by
    the ticket's latest event naming one (an assignment, a reply, a solve): the simulator's
    help desk has no explicit assignment, so the last agent who acted owns the ticket, as in
    fct_tickets.agent_id; before any agent acts the ticket has no agent interval. For each
    kind, the intervals of a ticket never overlap, so a day's backlog per owner is a count
    of intervals open at the day's end.
    Incremental by ticket_id like the folds it reads (macros/received_since.sql): a build
    recomputes the tickets with an event received since the last; received_at is the later
    receipt of the two events an interval's bounds come from. -#}
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

status_intervals as (

    select * from {{ ref('int_ticket_status_intervals_folded') }}
    {{- where_received_since(
        'ticket_id', 'ticket_id', ref('stg_lake__ticket_events'), watermark_column='received_at'
    ) }}

),

assignments as (

    select * from {{ ref('int_ticket_assignments_folded') }}
    {{- where_received_since(
        'ticket_id', 'ticket_id', ref('stg_lake__ticket_events'), watermark_column='received_at'
    ) }}

),

ticket_events as (

    select * from {{ ref('stg_lake__ticket_events') }}
    {{- where_received_since(
        'ticket_id', 'ticket_id', ref('stg_lake__ticket_events'), watermark_column='received_at'
    ) }}

),

unsolved as (

    select
        ticket_id,
        valid_from_at,
        valid_to_at,
        received_at
    from status_intervals
    where is_unsolved

),

team_intervals as (

    select
        ticket_id,
        coalesce(team_id, '-1') as owner_id,
        valid_from_at,
        valid_to_at,
        received_at
    from assignments

),

agent_changes as (

    select
        ticket_id,
        agent_id,
        occurred_at,
        received_at,
        lag(agent_id) over (partition by ticket_id order by occurred_at, event_id) as previous_agent_id
    from ticket_events
    where agent_id is not null

),

-- Runs of one owner: a change of owner starts an interval that lasts until the next change.
agent_intervals as (

    select
        ticket_id,
        agent_id as owner_id,
        occurred_at as valid_from_at,
        lead(occurred_at) over (partition by ticket_id order by occurred_at) as valid_to_at,
        received_at
    from agent_changes
    where previous_agent_id is null or agent_id != previous_agent_id

),

owner_intervals as (

    select
        'team' as owner_kind,
        *
    from team_intervals
    union all
    select
        'agent' as owner_kind,
        *
    from agent_intervals

),

-- The overlap of each backlog interval with each owner interval of the same ticket.
final as (

    select
        unsolved.ticket_id,
        owner_intervals.owner_kind,
        owner_intervals.owner_id,
        greatest(unsolved.valid_from_at, owner_intervals.valid_from_at) as valid_from_at,
        case
            when unsolved.valid_to_at is null then owner_intervals.valid_to_at
            when owner_intervals.valid_to_at is null then unsolved.valid_to_at
            else least(unsolved.valid_to_at, owner_intervals.valid_to_at)
        end as valid_to_at,
        greatest(unsolved.received_at, owner_intervals.received_at) as received_at
    from unsolved
    inner join owner_intervals
        on
            unsolved.ticket_id = owner_intervals.ticket_id
            and (unsolved.valid_from_at < owner_intervals.valid_to_at or owner_intervals.valid_to_at is null)
            and (unsolved.valid_to_at is null or unsolved.valid_to_at > owner_intervals.valid_from_at)

)

select * from final
