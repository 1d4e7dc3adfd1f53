with

onboarding_deliveries as (

    select * from {{ lake_deliveries('onboarding') }}

),

typed as {{ cte_not_materialized() }} (

    select
        {{ lake_envelope_columns() }},
        cast(customer_id as varchar) as customer_id,
        cast(milestone as varchar) as milestone,
        cast(milestone_order as smallint) as milestone_order,
        source_file
    from onboarding_deliveries

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
