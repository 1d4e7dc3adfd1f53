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

steps as (

    select
        conversation_id,
        event_id,
        occurred_at,
        replace(event_type, 'conversation.', '') as step,
        lag(event_type) over (
            partition by conversation_id order by occurred_at, event_id
        ) as previous_event_type,
        event_type
    from chat_events

),

handoffs as (

    select
        conversation_id,
        min(occurred_at) as first_handed_off_at
    from chat_events
    where event_type = 'conversation.handed_off'
    group by conversation_id

),

paths as (

    select
        conversation_id,
        {{ dbt.listagg('step', "' > '", 'order by occurred_at, event_id') }} as conversation_path
    from steps
    where previous_event_type is null or event_type != previous_event_type
    group by conversation_id

),

final as (

    select
        chat_events.conversation_id,
        max(case when chat_events.event_type = 'conversation.started' then chat_events.customer_id end)
            as customer_id,
        max(case when chat_events.event_type = 'conversation.started' then chat_events.channel end)
            as channel,
        max_by(
            chat_events.team_id, case when chat_events.team_id is not null then chat_events.occurred_at end
        )
            as team_id,
        max_by(
            chat_events.agent_id, case when chat_events.agent_id is not null then chat_events.occurred_at end
        )
            as agent_id,
        min(case when chat_events.event_type = 'conversation.started' then chat_events.occurred_at end)
            as started_at,
        max(case when chat_events.event_type = 'conversation.closed' then chat_events.occurred_at end)
            as closed_at,
        min(
            case
                when chat_events.event_type in (
                    'conversation.bot_answered', 'conversation.agent_message'
                ) then chat_events.occurred_at
            end
        ) as first_answered_at,
        sum(case when chat_events.event_type = 'conversation.bot_answered' then 1 else 0 end)
            as bot_answer_count,
        max_by(
            chat_events.resolution_type,
            case when chat_events.event_type = 'conversation.bot_resolved' then chat_events.occurred_at end
        ) as bot_resolution_type,
        sum(case when chat_events.event_type = 'conversation.handed_off' then 1 else 0 end)
            as handoff_count,
        sum(case when chat_events.event_type = 'conversation.agent_message' then 1 else 0 end)
            as agent_message_count,
        sum(case when chat_events.event_type = 'conversation.customer_message' then 1 else 0 end)
            as customer_message_count,
        max(handoffs.first_handed_off_at) as first_handed_off_at,
        min(
            case
                when
                    chat_events.event_type = 'conversation.agent_message'
                    and chat_events.occurred_at >= handoffs.first_handed_off_at
                    then chat_events.occurred_at
            end
        ) as first_agent_message_after_handoff_at,
        max(paths.conversation_path) as conversation_path,
        max(chat_events.received_at) as last_received_at
    from chat_events
    left join handoffs
        on chat_events.conversation_id = handoffs.conversation_id
    left join paths
        on chat_events.conversation_id = paths.conversation_id
    group by chat_events.conversation_id

)

select * from final
