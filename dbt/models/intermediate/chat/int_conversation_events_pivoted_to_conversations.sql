{#- Each conversation folded from its events: start, bot answers and resolution, hand-offs,
    messages, close, and its path (the event types in order, repeats collapsed). -#}
{#- Incremental by conversation_id: a build recomputes, from all their events, the
    conversations with an event received since the last (macros/received_since.sql). -#}
{{ config(
    materialized='incremental',
    unique_key='conversation_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

chat_events as (

    select * from {{ ref('stg_lake__chat_events') }}
    {{- where_received_since('conversation_id', 'conversation_id', ref('stg_lake__chat_events')) }}

),

-- One window pass and one aggregate (issue #5: this fold was the build's second slowest
-- step): the previous event type collapses repeats in the path, and the first hand-off
-- rides along on each row, so no CTE is read twice and no join is needed.
steps as (

    select
        *,
        replace(event_type, 'conversation.', '') as step,
        lag(event_type) over (
            partition by conversation_id order by occurred_at, event_id
        ) as previous_event_type,
        min(case when event_type = 'conversation.handed_off' then occurred_at end) over (
            partition by conversation_id
        ) as first_handed_off_at
    from chat_events

),

final as (

    select
        steps.conversation_id,
        max(case when steps.event_type = 'conversation.started' then steps.customer_id end)
            as customer_id,
        max(case when steps.event_type = 'conversation.started' then steps.channel end)
            as channel,
        max_by(
            steps.team_id, case when steps.team_id is not null then steps.occurred_at end
        )
            as team_id,
        max_by(
            steps.agent_id, case when steps.agent_id is not null then steps.occurred_at end
        )
            as agent_id,
        min(case when steps.event_type = 'conversation.started' then steps.occurred_at end)
            as started_at,
        max(case when steps.event_type = 'conversation.closed' then steps.occurred_at end)
            as closed_at,
        min(
            case
                when steps.event_type in (
                    'conversation.bot_answered', 'conversation.agent_message'
                ) then steps.occurred_at
            end
        ) as first_answered_at,
        sum(case when steps.event_type = 'conversation.bot_answered' then 1 else 0 end)
            as bot_answer_count,
        max_by(
            steps.resolution_type,
            case when steps.event_type = 'conversation.bot_resolved' then steps.occurred_at end
        ) as bot_resolution_type,
        sum(case when steps.event_type = 'conversation.handed_off' then 1 else 0 end)
            as handoff_count,
        sum(case when steps.event_type = 'conversation.agent_message' then 1 else 0 end)
            as agent_message_count,
        sum(case when steps.event_type = 'conversation.customer_message' then 1 else 0 end)
            as customer_message_count,
        max(steps.first_handed_off_at) as first_handed_off_at,
        min(
            case
                when
                    steps.event_type = 'conversation.agent_message'
                    and steps.occurred_at >= steps.first_handed_off_at
                    then steps.occurred_at
            end
        ) as first_agent_message_after_handoff_at,
        {{ dbt.listagg(
            "case when steps.previous_event_type is null "
            ~ "or steps.event_type != steps.previous_event_type "
            ~ "then steps.step end",
            "' > '",
            'order by steps.occurred_at, steps.event_id',
        ) }} as conversation_path,
        max(steps.received_at) as last_received_at
    from steps
    group by steps.conversation_id

)

select * from final
