{#- Knowledge-base activity per UTC day: article views, searches and zero-result searches,
    votes, and the self-service score = distinct customers who used the knowledge base /
    distinct customers who created a ticket that day (Zendesk's definition: self-service
    users per assisted user; higher means more help without an agent). -#}
{#- Incremental by day: a run recomputes, from all their events, the days of the kb events
    and ticket creations received since the table's latest day less the look-back
    (macros/received_since.sql: a day starts before any receipt of its events). -#}
-- depends_on: {{ ref('stg_lake__ticket_events') }}
{{ config(
    materialized='incremental',
    unique_key='activity_date',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

{% if is_incremental() %}
changed_days as (

    select distinct cast(occurred_at as date) as activity_date
    from {{ ref('stg_lake__kb_events') }}
    where received_at > {{ lookback_start('activity_date') }}

    union

    select distinct cast(occurred_at as date) as activity_date
    from {{ ref('stg_lake__ticket_events') }}
    where
        received_at > {{ lookback_start('activity_date') }}
        and event_type = 'ticket.created'

),

first_changed_day as (

    select cast(min(activity_date) as timestamp) as first_changed_at from changed_days

),
{% endif %}

kb_events as (

    select * from {{ ref('stg_lake__kb_events') }}
    {%- if is_incremental() %}
    -- The first condition lets the scan skip the blocks before the first changed day.
    where
        occurred_at >= (select first_changed_at from first_changed_day)
        and cast(occurred_at as date) in (select activity_date from changed_days)
    {%- endif %}

),

ticket_events as (

    select * from {{ ref('stg_lake__ticket_events') }}
    {%- if is_incremental() %}
    where
        occurred_at >= (select first_changed_at from first_changed_day)
        and cast(occurred_at as date) in (select activity_date from changed_days)
    {%- endif %}

),

kb_per_day as (

    select
        cast(occurred_at as date) as activity_date,
        sum(case when event_type = 'kb.article_viewed' then 1 else 0 end) as article_view_count,
        sum(case when event_type = 'kb.searched' then 1 else 0 end) as search_count,
        sum(case when event_type = 'kb.searched' and result_count = 0 then 1 else 0 end)
            as zero_result_search_count,
        sum(case when event_type = 'kb.article_voted' and is_helpful then 1 else 0 end)
            as helpful_vote_count,
        sum(case when event_type = 'kb.article_voted' and not is_helpful then 1 else 0 end)
            as unhelpful_vote_count,
        count(distinct customer_id) as kb_customer_count,
        count(distinct session_id) as kb_session_count
    from kb_events
    group by cast(occurred_at as date)

),

tickets_per_day as (

    select
        cast(occurred_at as date) as activity_date,
        count(distinct customer_id) as ticket_customer_count
    from ticket_events
    where event_type = 'ticket.created'
    group by cast(occurred_at as date)

),

final as (

    select
        kb_per_day.activity_date,
        cast(kb_per_day.article_view_count as bigint) as article_view_count,
        cast(kb_per_day.search_count as bigint) as search_count,
        cast(kb_per_day.zero_result_search_count as bigint) as zero_result_search_count,
        cast(kb_per_day.helpful_vote_count as bigint) as helpful_vote_count,
        cast(kb_per_day.unhelpful_vote_count as bigint) as unhelpful_vote_count,
        cast(kb_per_day.kb_customer_count as bigint) as kb_customer_count,
        cast(kb_per_day.kb_session_count as bigint) as kb_session_count,
        cast(coalesce(tickets_per_day.ticket_customer_count, 0) as bigint)
            as ticket_customer_count,
        case
            when tickets_per_day.ticket_customer_count > 0 then
                cast(kb_per_day.kb_customer_count as double) / tickets_per_day.ticket_customer_count
        end as self_service_score
    from kb_per_day
    left join tickets_per_day
        on kb_per_day.activity_date = tickets_per_day.activity_date

)

select * from final
