{#- One row per chat conversation with its path. Bot resolution is confirmed when the bot
    resolved it and the customer confirmed (resolution_type 'confirmed'), assumed when the bot
    resolved it without confirmation ('assumed', or a bot answer, no hand-off and no agent
    message before the close). Waits: start to first answer (bot or agent), and hand-off to
    the first agent message after it. Team: the last team the events name (a hand-off
    target); sources that name none (the simulator, a messenger without routing) get the
    agent's team at the conversation's start, so chat work lands on the team that did it. -#}
{#- Incremental by conversation: a run writes the conversations refolded since the table's
    latest receipt less the look-back (the fold's last_received_at;
    macros/received_since.sql) and those whose team, recomputed, differs from the row
    held (an agent's team history in dim_agents can change with any agent, ticket, survey or
    chat event). Recomputing every conversation is cheap since the agents' versions are
    collapsed into team spells; writing them all was not. -#}
{{ config(
    materialized='incremental',
    unique_key='conversation_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

pivoted as (

    select * from {{ ref('int_conversation_events_pivoted_to_conversations') }}

),

agent_versions as (

    select
        agent_id,
        team_id,
        version_number,
        valid_from_at,
        lag(team_id) over (partition by agent_id order by version_number) as previous_team_id
    from {{ ref('dim_agents') }}
    where agent_key != '-1'

),

-- An agent's versions are contiguous, and some change only what is not the team (leaving, a
-- name): the spells of one team (each from a version whose team differs from the one before
-- until the next such version) give the team at any instant.
agents as (

    select
        agent_id,
        team_id,
        valid_from_at,
        lead(valid_from_at) over (partition by agent_id order by version_number)
            as valid_to_at
    from agent_versions
    where previous_team_id is null or team_id != previous_team_id

),

conversations as (

    select
        pivoted.*,
        agents.team_id as agent_team_id
    from pivoted
    left join agents
        on
            pivoted.agent_id = agents.agent_id
            and pivoted.started_at >= agents.valid_from_at
            and (agents.valid_to_at is null or pivoted.started_at < agents.valid_to_at)

),

rebuilt as (

    select
        conversation_id,
        coalesce(customer_id, '-1') as customer_id,
        coalesce(channel, '-1') as channel,
        coalesce(team_id, agent_team_id, '-1') as team_id,
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

),

final as (

    select rebuilt.* from rebuilt
    {%- if is_incremental() %}
    left join {{ this }} as loaded
        on rebuilt.conversation_id = loaded.conversation_id
    where
        rebuilt.last_received_at > {{ lookback_start('last_received_at') }}
        or loaded.team_id is null
        or rebuilt.team_id != loaded.team_id
    {%- endif %}

)

select * from final
