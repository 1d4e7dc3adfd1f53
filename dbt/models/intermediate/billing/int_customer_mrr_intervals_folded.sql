{#- Each customer's total MRR over time as intervals [valid_from_at, valid_to_at): the sum of
    the MRR of all the customer's subscriptions, stepping at each subscription change. A
    customer churns when this total falls to zero (no other active subscription), at that
    instant. -#}
{#- Incremental by customer: a run recomputes the customers with a subscription whose
    periods were refolded since this table's latest receipt less the look-back
    (int_subscription_periods_folded.last_received_at; macros/received_since.sql). -#}
{{ config(
    materialized='incremental',
    unique_key='customer_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

subscription_periods as (

    select * from {{ ref('int_subscription_periods_folded') }}
    {%- if is_incremental() %}
    where customer_id in (
        select customer_id from {{ ref('int_subscription_periods_folded') }}
        where last_received_at > {{ lookback_start('last_received_at') }}
    )
    {%- endif %}

),

steps as (

    select
        customer_id,
        valid_from_at,
        sum(mrr_change_amount_eur) as mrr_change_amount_eur,
        max(last_received_at) as last_received_at
    from subscription_periods
    group by customer_id, valid_from_at

),

running as (

    select
        customer_id,
        valid_from_at,
        max(last_received_at) over (partition by customer_id) as last_received_at,
        lead(valid_from_at) over (
            partition by customer_id order by valid_from_at
        ) as valid_to_at,
        sum(mrr_change_amount_eur) over (
            partition by customer_id
            order by valid_from_at
            rows between unbounded preceding and current row
        ) as mrr_amount_eur
    from steps

),

final as (

    select
        customer_id,
        valid_from_at,
        valid_to_at,
        cast(mrr_amount_eur as decimal(18, 2)) as mrr_amount_eur,
        cast(
            coalesce(
                lag(mrr_amount_eur) over (partition by customer_id order by valid_from_at), 0
            ) as decimal(18, 2)
        ) as previous_mrr_amount_eur,
        last_received_at
    from running

)

select * from final
