with

chat_deliveries as (

    select * from {{ lake_deliveries('chat') }}

),

typed as (

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
        source_file
    from chat_deliveries

),

first_deliveries as (

    {{ first_deliveries('typed') }}

),

final as (

    select
        event_id,
        event_type,
        schema_version,
        occurred_at,
        received_at,
        event_date,
        source_system,
        conversation_id,
        customer_id,
        agent_id,
        team_id,
        channel,
        author_type,
        resolution_type,
        article_id,
        source_file,
        delivery_count,
        duplicate_source_files
    from first_deliveries

)

select * from final
