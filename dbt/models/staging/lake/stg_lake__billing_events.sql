with

billing_deliveries as (

    select * from {{ lake_deliveries('billing') }}

),

typed as {{ cte_not_materialized() }} (

    select
        {{ lake_envelope_columns() }},
        cast(customer_id as varchar) as customer_id,
        cast(subscription_id as varchar) as subscription_id,
        cast(plan_id as varchar) as plan_id,
        cast(billing_period as varchar) as billing_period,
        cast(mrr_amount_eur as decimal(18, 2)) as mrr_amount_eur,
        cast(previous_mrr_amount_eur as decimal(18, 2)) as previous_mrr_amount_eur,
        cast(discount_pct as double) as discount_pct,
        {{ utc_timestamp('period_end_at') }} as period_end_at,
        cast(invoice_id as varchar) as invoice_id,
        cast(amount_eur as decimal(18, 2)) as amount_eur,
        cast(attempt_number as smallint) as attempt_number,
        cast(failure_reason as varchar) as failure_reason,
        source_file
    from billing_deliveries

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
