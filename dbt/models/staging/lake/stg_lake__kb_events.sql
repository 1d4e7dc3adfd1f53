with

kb_deliveries as (

    select * from {{ lake_deliveries('kb') }}

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
        cast(customer_id as varchar) as customer_id,
        cast(session_id as varchar) as session_id,
        cast(article_id as varchar) as article_id,
        cast(search_query as varchar) as search_query,
        cast(result_count as integer) as result_count,
        cast(is_helpful as boolean) as is_helpful,
        source_file
    from kb_deliveries

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
        customer_id,
        session_id,
        article_id,
        search_query,
        result_count,
        is_helpful,
        source_file,
        delivery_count,
        duplicate_source_files
    from first_deliveries

)

select * from final
