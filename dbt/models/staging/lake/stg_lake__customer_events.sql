with

customer_deliveries as (

    select * from {{ lake_deliveries('customer') }}

),

typed as {{ cte_not_materialized() }} (

    select
        {{ lake_envelope_columns() }},
        cast(customer_id as varchar) as customer_id,
        cast(company_name as varchar) as company_name,
        cast(segment as varchar) as segment,
        cast(region as varchar) as region,
        cast(country as varchar) as country,
        cast(timezone as varchar) as timezone,
        cast(size_band as varchar) as size_band,
        cast(contact_id as varchar) as contact_id,
        cast(contact_name as varchar) as contact_name,
        cast(contact_email as varchar) as contact_email,
        source_file
    from customer_deliveries

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
