{#- One row per churn: the instant a customer's total MRR fell to zero (no other active
    subscription). A cancelled plan churns when its paid period ends, not when cancelled. -#}
with

customer_mrr as (

    select * from {{ ref('int_customer_mrr_intervals_folded') }}

),

final as (

    select
        customer_id,
        valid_from_at as churned_at,
        cast(valid_from_at as date) as churned_date,
        previous_mrr_amount_eur as churned_mrr_amount,
        valid_to_at as reactivated_at
    from customer_mrr
    where mrr_amount_eur = 0 and previous_mrr_amount_eur > 0

)

select * from final
