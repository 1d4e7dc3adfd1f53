with

kb_deliveries as (

    select * from {{ lake_deliveries('kb') }}

),

typed as {{ cte_not_materialized() }} (

    select
        {{ lake_envelope_columns() }},
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

    -- typed's columns, then delivery_count and duplicate_source_files (first_deliveries):
    -- sqlfluff cannot count a macro's columns, hence the noqa below.
    select * from first_deliveries

)

select * from final  -- noqa: AM04
