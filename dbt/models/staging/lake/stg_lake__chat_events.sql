with

chat_events as (

    select * from {{ lake_source('chat') }}

),

first_deliveries as (

    {{ first_deliveries('chat_events') }}

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
    from first_deliveries

)

select * from final
