with

billing_deliveries as (

    select * from {{ lake_deliveries('billing') }}

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

    select
        event_id,
        event_type,
        schema_version,
        occurred_at,
        received_at,
        event_date,
        source_system,
        customer_id,
        subscription_id,
        plan_id,
        billing_period,
        mrr_amount_eur,
        previous_mrr_amount_eur,
        discount_pct,
        period_end_at,
        invoice_id,
        amount_eur,
        attempt_number,
        failure_reason,
        source_file,
        delivery_count,
        duplicate_source_files
    from first_deliveries

)

select * from final
