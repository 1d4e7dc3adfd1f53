{#- Type-2 agent dimension: a version per change of attributes (team, name, skills, time zone,
    leaving), each carried forward from the agent events that name it (hired, left, shifts);
    an event that changes nothing, such as a shift naming the agent's team, starts no version.
    Agents seen only in tickets, surveys or chats get one inferred version. The first version
    is valid from 1900-01-01; hired_at and left_at keep the real instants. -#}
with

agent_events as (

    select * from {{ ref('stg_lake__agent_events') }}

),

ticket_events as (

    select * from {{ ref('stg_lake__ticket_events') }}

),

survey_events as (

    select * from {{ ref('stg_lake__survey_events') }}

),

chat_events as (

    select * from {{ ref('stg_lake__chat_events') }}

),

attribute_events as (

    select
        agent_id,
        event_id,
        event_type,
        occurred_at,
        case when event_type = 'agent.hired' then 0 else 1 end as event_order,
        team_id,
        agent_name,
        skills,
        timezone
    from agent_events
    where
        event_type in ('agent.hired', 'agent.left')
        or coalesce(team_id, agent_name, skills, timezone) is not null

),

{% set attributes = ['team_id', 'agent_name', 'skills', 'timezone', 'left_at'] %}
carried as (

    select
        agent_id,
        occurred_at,
        event_order,
        event_id,
        {%- for attribute in attributes if attribute != 'left_at' %}
            last_value({{ attribute }} ignore nulls) over (
                partition by agent_id
                order by occurred_at, event_order, event_id
                rows between unbounded preceding and current row
            ) as {{ attribute }},
        {%- endfor %}
        min(case when event_type = 'agent.hired' then occurred_at end) over (
            partition by agent_id
        ) as hired_at,
        max(case when event_type = 'agent.left' then occurred_at end) over (
            partition by agent_id
            order by occurred_at, event_order, event_id
            rows between unbounded preceding and current row
        ) as left_at
    from attribute_events

),

changes as (

    {{ changed_versions(
        'carried', 'agent_id', 'occurred_at, event_order, event_id', attributes, ['hired_at']
    ) }}

),

seen_elsewhere as (

    select
        agent_id,
        max(team_id) as team_id
    from ticket_events
    where agent_id is not null
    group by agent_id
    union
    select
        agent_id,
        max(team_id) as team_id
    from survey_events
    where agent_id is not null
    group by agent_id
    union
    select
        agent_id,
        max(team_id) as team_id
    from chat_events
    where agent_id is not null
    group by agent_id

),

known_agents as (

    select distinct agent_id from changes

),

inferred as (

    select
        seen_elsewhere.agent_id,
        max(seen_elsewhere.team_id) as team_id
    from seen_elsewhere
    left join known_agents as known
        on seen_elsewhere.agent_id = known.agent_id
    where known.agent_id is null
    group by seen_elsewhere.agent_id

),

versions as (

    select
        agent_id || '#' || cast(version_number as varchar) as agent_key,
        agent_id,
        cast(version_number as integer) as version_number,
        agent_name,
        coalesce(team_id, '-1') as team_id,
        skills,
        timezone as time_zone,
        hired_at,
        left_at,
        left_at is null as is_employed,
        case
            when version_number = 1 then cast('1900-01-01' as timestamp) else occurred_at
        end as valid_from_at,
        valid_to_at,
        valid_to_at is null as is_current,
        false as is_inferred
    from changes

    union all

    select
        agent_id || '#1' as agent_key,
        agent_id,
        1 as version_number,
        cast(null as varchar) as agent_name,
        coalesce(team_id, '-1') as team_id,
        cast(null as varchar) as skills,
        cast(null as varchar) as time_zone,
        cast(null as timestamp) as hired_at,
        cast(null as timestamp) as left_at,
        true as is_employed,
        cast('1900-01-01' as timestamp) as valid_from_at,
        cast(null as timestamp) as valid_to_at,
        true as is_current,
        true as is_inferred
    from inferred

    union all

    select
        '-1' as agent_key,
        '-1' as agent_id,
        1 as version_number,
        'Unknown' as agent_name,
        '-1' as team_id,
        cast(null as varchar) as skills,
        cast(null as varchar) as time_zone,
        cast(null as timestamp) as hired_at,
        cast(null as timestamp) as left_at,
        false as is_employed,
        cast('1900-01-01' as timestamp) as valid_from_at,
        cast(null as timestamp) as valid_to_at,
        true as is_current,
        false as is_inferred

)

select * from versions
