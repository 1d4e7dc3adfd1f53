{#- Each ticket's ownership history as segments [valid_from_at, valid_to_at): the team and
    the assignee agent, from ticket.created, ticket.assigned and ticket.escalated. A team
    carries forward until an event names another; the assignee is what the latest assigning
    event names (null: the team's queue). The last segment is open (valid_to_at null). -#}
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

ticket_events as (

    select * from {{ ref('stg_lake__ticket_events') }}
    {{- where_received_since(
        'ticket_id', 'ticket_id', ref('stg_lake__ticket_events'), watermark_column='received_at'
    ) }}

),

assigning_events as (

    select
        ticket_id,
        event_id,
        event_type,
        occurred_at,
        team_id,
        agent_id,
        escalation_tier,
        received_at,
        case when event_type = 'ticket.created' then 0 else 1 end as event_order
    from ticket_events
    where event_type in ('ticket.created', 'ticket.assigned', 'ticket.escalated')

),

carried as (

    select
        ticket_id,
        event_id,
        event_type,
        occurred_at,
        event_order,
        last_value(team_id ignore nulls) over (
            partition by ticket_id
            order by occurred_at, event_order, event_id
            rows between unbounded preceding and current row
        ) as team_id,
        agent_id,
        escalation_tier,
        received_at
    from assigning_events

),

final as (

    select
        ticket_id,
        event_type as assigned_by_event_type,
        team_id,
        agent_id,
        escalation_tier,
        lag(team_id) over (
            partition by ticket_id order by occurred_at, event_order, event_id
        ) as previous_team_id,
        lag(agent_id) over (
            partition by ticket_id order by occurred_at, event_order, event_id
        ) as previous_agent_id,
        occurred_at as valid_from_at,
        lead(occurred_at) over (
            partition by ticket_id order by occurred_at, event_order, event_id
        ) as valid_to_at,
        row_number() over (
            partition by ticket_id order by occurred_at, event_order, event_id
        ) as assignment_sequence_number,
        received_at
    from carried

)

select * from final
