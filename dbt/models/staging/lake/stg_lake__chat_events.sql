with

chat_deliveries as (

    select * from {{ lake_deliveries('chat') }}

),

typed as {{ cte_not_materialized() }} (

    select
        {{ lake_envelope_columns() }},
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

    -- typed's columns, then delivery_count and duplicate_source_files (first_deliveries):
    -- sqlfluff cannot count a macro's columns, hence the noqa below.
    select * from first_deliveries

)

select * from final  -- noqa: AM04
