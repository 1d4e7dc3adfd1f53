{#- One row per knowledge-base article seen in kb or chat events (the lake has no article
    catalogue stream), plus the unknown member '-1'. -#}
with

kb_events as (

    select * from {{ ref('stg_lake__kb_events') }}

),

chat_events as (

    select * from {{ ref('stg_lake__chat_events') }}

),

seen as (

    select
        article_id,
        occurred_at
    from kb_events
    where article_id is not null
    union all
    select
        article_id,
        occurred_at
    from chat_events
    where article_id is not null

),

final as (

    select
        article_id,
        min(occurred_at) as first_seen_at,
        true as is_known
    from seen
    group by article_id

    union all

    select
        '-1' as article_id,
        cast(null as timestamp) as first_seen_at,
        false as is_known

)

select * from final
