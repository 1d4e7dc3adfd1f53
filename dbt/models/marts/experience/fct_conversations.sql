{#- One row per chat conversation with its path. Bot resolution is confirmed when the bot
    resolved it and the customer confirmed (resolution_type 'confirmed'), assumed when the bot
    resolved it without confirmation ('assumed', or a bot answer, no hand-off and no agent
    message before the close). Waits: start to first answer (bot or agent), and hand-off to
    the first agent message after it. -#}
with

conversations as (

    select * from {{ ref('int_conversation_events_pivoted_to_conversations') }}

),

final as (

    select
        conversation_id,
        coalesce(customer_id, '-1') as customer_id,
        coalesce(channel, '-1') as channel,
        coalesce(team_id, '-1') as team_id,
        coalesce(agent_id, '-1') as agent_id,
        started_at,
        cast(started_at as date) as started_date,
        closed_at,
        conversation_path,
        bot_answer_count > 0 or bot_resolution_type is not null as has_bot_involvement,
        coalesce(bot_resolution_type = 'confirmed', false) as is_bot_resolved_confirmed,
        coalesce(bot_resolution_type = 'assumed', false)
        or (
            bot_resolution_type is null
            and bot_answer_count > 0
            and handoff_count = 0
            and agent_message_count = 0
            and closed_at is not null
        ) as is_bot_resolved_assumed,
        cast(handoff_count as integer) as handoff_count,
        handoff_count > 0 as is_handed_off,
        cast(agent_message_count as integer) as agent_message_count,
        cast(customer_message_count as integer) as customer_message_count,
        {{ elapsed_minutes('started_at', 'first_answered_at') }} as first_answer_wait_minutes,
        {{ elapsed_minutes('first_handed_off_at', 'first_agent_message_after_handoff_at') }}
            as handoff_wait_minutes,
        {{ elapsed_minutes('started_at', 'closed_at') }} as duration_minutes,
        last_received_at
    from conversations
    where started_at is not null

)

select * from final
