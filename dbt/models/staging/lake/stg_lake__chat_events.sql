with

chat_events as (

    select * from {{ lake_source('chat') }}

),

ranked as (

    select
        chat_events.*,
        -- First received wins: a redelivered event (same event_id) arrives later.
        row_number() over (
            partition by chat_events.event_id
            order by chat_events.received_at asc, chat_events.occurred_at asc
        ) as delivery_rank,
        count(*) over (partition by chat_events.event_id) as delivery_count
    from chat_events
    where {{ as_of_filter('chat_events.occurred_at') }}

),

final as (

    select
        cast(event_id as varchar) as event_id,
        cast(event_type as varchar) as event_type,
        cast(schema_version as integer) as schema_version,
        {{ utc_timestamp('occurred_at') }} as occurred_at,
        {{ utc_timestamp('received_at') }} as received_at,
        cast(event_date as date) as event_date,
        cast(source as varchar) as source_system,
        cast(conversation_id as varchar) as conversation_id,
        cast(customer_id as varchar) as customer_id,
        cast(agent_id as varchar) as agent_id,
        cast(team_id as varchar) as team_id,
        cast(channel as varchar) as channel,
        cast(author_type as varchar) as author_type,
        cast(resolution_type as varchar) as resolution_type,
        cast(article_id as varchar) as article_id,
        cast(delivery_count as integer) as delivery_count
    from ranked
    where delivery_rank = 1

)

select * from final
