{#- Incremental by ticket_id: a build recomputes, from all their events, the tickets with an
    event received since the last (macros/received_since.sql). -#}
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

-- Inlined: three CTEs below read it, and a materialised copy of the ticket stream costs more
-- than three scans of the columns each needs (issue #5).
ticket_events as {{ cte_not_materialized() }} (

    select * from {{ ref('stg_lake__ticket_events') }}
    {{- where_received_since('ticket_id', 'ticket_id', ref('stg_lake__ticket_events')) }}

),

created as (

    select
        ticket_id,
        customer_id,
        team_id,
        channel,
        priority,
        occurred_at as created_at
    from ticket_events
    where event_type = 'ticket.created'

),

milestones as (

    select
        ticket_id,
        -- A reply is a public comment by an agent: bots and internal notes do not count.
        min(
            case
                when event_type = 'ticket.commented' and author_type = 'agent' and is_public
                    then occurred_at
            end
        ) as first_replied_at,
        sum(
            case
                when event_type = 'ticket.commented' and author_type = 'agent' and is_public
                    then 1
                else 0
            end
        ) as public_agent_reply_count,
        min(
            case when event_type = 'ticket.status_changed' and status = 'solved' then occurred_at end
        ) as first_solved_at,
        max(
            case when event_type = 'ticket.status_changed' and status = 'solved' then occurred_at end
        ) as last_solved_at,
        max(received_at) as last_received_at
    from ticket_events
    group by ticket_id

),

last_agent as (

    select
        ticket_id,
        agent_id
    from (
        select
            ticket_id,
            agent_id,
            row_number() over (
                partition by ticket_id order by occurred_at desc, event_id desc
            ) as recency_rank
        from ticket_events
        where agent_id is not null
    ) as agent_events
    where recency_rank = 1

),

final as (

    select
        created.ticket_id,
        created.customer_id,
        created.team_id,
        last_agent.agent_id,
        created.channel,
        created.priority,
        created.created_at,
        milestones.first_replied_at,
        milestones.first_solved_at,
        milestones.last_solved_at,
        milestones.public_agent_reply_count,
        milestones.last_received_at
    from created
    inner join milestones
        on created.ticket_id = milestones.ticket_id
    left join last_agent
        on created.ticket_id = last_agent.ticket_id

)

select * from final
