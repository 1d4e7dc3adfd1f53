{#- One row per survey response (the first survey.responded per survey). NPS: promoter 9-10,
    passive 7-8, detractor 0-6, so NPS = average of nps_points. CSAT: satisfied at 4 or 5, so
    CSAT = satisfied / rated. CES 1-7 as given. The agent and team are those at rating time:
    named on the response, else the ticket's owner then (assignment history), else the agent
    who last acted on the ticket. -#}
{#- Incremental by response: a run recomputes, from all their events, the surveys with an
    event received since the table's latest response receipt less the look-back
    (macros/received_since.sql), and the responses on tickets with an event received
    since then (a late assignment changes the owner at rating time). -#}
-- depends_on: {{ ref('stg_lake__ticket_events') }}
{{ config(
    materialized='incremental',
    unique_key='response_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

{% if is_incremental() %}
changed_surveys as (

    {{ keys_received_since('survey_id', ref('stg_lake__survey_events'), 'received_at') }}

    union

    select loaded.response_id as survey_id
    from {{ this }} as loaded
    where loaded.ticket_id in (
        {{ keys_received_since('ticket_id', ref('stg_lake__ticket_events'), 'received_at') }}
    )

),
{% endif %}

survey_events as (

    select * from {{ ref('stg_lake__survey_events') }}
    {%- if is_incremental() %}
    where survey_id in (select survey_id from changed_surveys)
    {%- endif %}

),

assignments as (

    select * from {{ ref('int_ticket_assignments_folded') }}
    {%- if is_incremental() %}
    where ticket_id in (select ticket_id from survey_events)
    {%- endif %}

),

tickets as (

    select * from {{ ref('int_ticket_events_pivoted_to_tickets') }}
    {%- if is_incremental() %}
    where ticket_id in (select ticket_id from survey_events)
    {%- endif %}

),

sent as (

    select
        survey_id,
        min(occurred_at) as sent_at
    from survey_events
    where event_type = 'survey.sent'
    group by survey_id

),

responses as (

    select
        *,
        row_number() over (partition by survey_id order by occurred_at, event_id) as response_rank
    from survey_events
    where event_type = 'survey.responded'

),

owner_at_rating as (

    select
        responses.survey_id,
        max_by(assignments.team_id, assignments.assignment_sequence_number) as team_id,
        max_by(assignments.agent_id, assignments.assignment_sequence_number) as agent_id
    from responses
    inner join assignments
        on
            responses.ticket_id = assignments.ticket_id
            and responses.occurred_at >= assignments.valid_from_at
    where responses.response_rank = 1
    group by responses.survey_id

),

final as (

    select
        responses.survey_id as response_id,
        responses.survey_type,
        cast(responses.score as integer) as score,
        responses.occurred_at as responded_at,
        cast(responses.occurred_at as date) as responded_date,
        sent.sent_at,
        coalesce(responses.customer_id, '-1') as customer_id,
        responses.ticket_id,
        coalesce(responses.agent_id, owner_at_rating.agent_id, tickets.agent_id, '-1') as agent_id,
        coalesce(responses.team_id, owner_at_rating.team_id, tickets.team_id, '-1') as team_id,
        case
            when responses.survey_type != 'nps' then null
            when responses.score >= 9 then 'promoter'
            when responses.score >= 7 then 'passive'
            else 'detractor'
        end as nps_category,
        case
            when responses.survey_type != 'nps' then null
            when responses.score >= 9 then 100
            when responses.score >= 7 then 0
            else -100
        end as nps_points,
        case when responses.survey_type = 'csat' then responses.score >= 4 end as is_satisfied,
        responses.comment,
        responses.received_at
    from responses
    left join sent
        on responses.survey_id = sent.survey_id
    left join owner_at_rating
        on responses.survey_id = owner_at_rating.survey_id
    left join tickets
        on responses.ticket_id = tickets.ticket_id
    where responses.response_rank = 1

)

select * from final
