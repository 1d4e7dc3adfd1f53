{#- One row per invoice: issued, paid, failed attempts (dunning), refunds. -#}
{#- Incremental by invoice: a run recomputes, from all their events, the invoices with an
    event received since the table's latest receipt less the look-back
    (macros/received_since.sql), and the invoices of subscriptions whose start was
    received since then (it names the customer an invoice falls back to). -#}
{{ config(
    materialized='incremental',
    unique_key='invoice_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

{% if is_incremental() %}
new_billing_events as (

    select
        invoice_id,
        subscription_id,
        event_type
    from {{ ref('stg_lake__billing_events') }}
    where received_at > {{ lookback_start('last_received_at') }}

),

changed_invoices as (

    select invoice_id
    from new_billing_events
    where invoice_id is not null

    union

    select loaded.invoice_id
    from {{ this }} as loaded
    inner join new_billing_events
        on loaded.subscription_id = new_billing_events.subscription_id
    where new_billing_events.event_type = 'subscription.started'

),
{% endif %}

billing_events as (

    select * from {{ ref('stg_lake__billing_events') }}

),

invoice_events as (

    select * from billing_events
    {%- if is_incremental() %}
    where invoice_id in (select invoice_id from changed_invoices)
    {%- endif %}

),

subscription_starts as (

    select
        subscription_id,
        customer_id
    from billing_events
    where event_type = 'subscription.started'

),

subscription_customers as (

    select
        subscription_id,
        max(customer_id) as customer_id
    from subscription_starts
    {%- if is_incremental() %}
    where subscription_id in (select subscription_id from invoice_events)
    {%- endif %}
    group by subscription_id

),

invoices as (

    select
        invoice_id,
        -- The issuing event's subscription; an invoice seen only paid or failed (a connector
        -- that missed the issue) still belongs to the subscription its other events name.
        coalesce(
            max(case when event_type = 'invoice.issued' then subscription_id end),
            max(subscription_id)
        ) as subscription_id,
        max(customer_id) as customer_id,
        min(case when event_type = 'invoice.issued' then occurred_at end) as issued_at,
        sum(case when event_type = 'invoice.issued' then amount_eur else 0 end) as invoiced_amount,
        min(case when event_type = 'invoice.paid' then occurred_at end) as paid_at,
        sum(case when event_type = 'invoice.paid' then amount_eur else 0 end) as paid_amount,
        sum(case when event_type = 'invoice.payment_failed' then 1 else 0 end)
            as failed_payment_count,
        sum(case when event_type = 'invoice.refunded' then amount_eur else 0 end)
            as refunded_amount,
        max(received_at) as last_received_at
    from invoice_events
    where invoice_id is not null
    group by invoice_id

),

final as (

    select
        invoices.invoice_id,
        invoices.subscription_id,
        coalesce(invoices.customer_id, subscription_customers.customer_id, '-1') as customer_id,
        invoices.issued_at,
        cast(invoices.issued_at as date) as issued_date,
        cast(invoices.invoiced_amount as decimal(18, 2)) as invoiced_amount,
        invoices.paid_at,
        cast(invoices.paid_amount as decimal(18, 2)) as paid_amount,
        cast(invoices.failed_payment_count as integer) as failed_payment_count,
        cast(invoices.refunded_amount as decimal(18, 2)) as refunded_amount,
        case
            when invoices.refunded_amount > 0 then 'refunded'
            when invoices.paid_at is not null then 'paid'
            when invoices.failed_payment_count > 0 then 'failing'
            else 'open'
        end as invoice_status,
        invoices.last_received_at
    from invoices
    left join subscription_customers
        on invoices.subscription_id = subscription_customers.subscription_id

)

select * from final
