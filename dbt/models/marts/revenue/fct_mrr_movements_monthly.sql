{#- The MRR bridge and retention per month: opening MRR, each movement, closing MRR, logo
    counts, and the rates. Gross MRR churn = (churn + contraction) / opening MRR; GRR = 1 -
    gross MRR churn; NRR = (opening + expansion - contraction - churn) / opening MRR (new and
    reactivated MRR are excluded: retention measures the customers you started with).
    Logo churn = customers churned / customers active at the opening. -#}
with

mrr as (

    select * from {{ ref('fct_mrr_monthly') }}

),

per_month as (

    select
        month_start_date,
        sum(previous_mrr_amount) as opening_mrr_amount,
        sum(mrr_amount) as closing_mrr_amount,
        {%- for movement in ['new', 'expansion', 'contraction', 'churn', 'reactivation'] %}
            sum(case when mrr_movement = '{{ movement }}' then mrr_movement_amount else 0 end)
                as {{ movement }}_mrr_amount,
        {%- endfor %}
        sum(case when previous_mrr_amount > 0 then 1 else 0 end) as opening_customer_count,
        sum(case when mrr_amount > 0 then 1 else 0 end) as closing_customer_count,
        sum(case when mrr_movement = 'new' then 1 else 0 end) as new_customer_count,
        sum(case when mrr_movement = 'reactivation' then 1 else 0 end)
            as reactivated_customer_count,
        sum(case when mrr_movement = 'churn' then 1 else 0 end) as churned_customer_count
    from mrr
    group by month_start_date

),

final as (

    select
        month_start_date,
        cast(opening_mrr_amount as decimal(18, 2)) as opening_mrr_amount,
        cast(new_mrr_amount as decimal(18, 2)) as new_mrr_amount,
        cast(expansion_mrr_amount as decimal(18, 2)) as expansion_mrr_amount,
        cast(contraction_mrr_amount as decimal(18, 2)) as contraction_mrr_amount,
        cast(churn_mrr_amount as decimal(18, 2)) as churn_mrr_amount,
        cast(reactivation_mrr_amount as decimal(18, 2)) as reactivation_mrr_amount,
        cast(closing_mrr_amount as decimal(18, 2)) as closing_mrr_amount,
        cast(opening_customer_count as bigint) as opening_customer_count,
        cast(new_customer_count as bigint) as new_customer_count,
        cast(reactivated_customer_count as bigint) as reactivated_customer_count,
        cast(churned_customer_count as bigint) as churned_customer_count,
        cast(closing_customer_count as bigint) as closing_customer_count,
        case
            when opening_customer_count > 0 then
                cast(churned_customer_count as double) / opening_customer_count
        end as logo_churn_rate,
        case
            when opening_mrr_amount > 0 then
                -cast(churn_mrr_amount + contraction_mrr_amount as double)
                / cast(opening_mrr_amount as double)
        end as gross_mrr_churn_rate,
        case
            when opening_mrr_amount > 0 then
                -cast(churn_mrr_amount + contraction_mrr_amount + expansion_mrr_amount as double)
                / cast(opening_mrr_amount as double)
        end as net_mrr_churn_rate,
        case
            when opening_mrr_amount > 0 then
                cast(opening_mrr_amount + churn_mrr_amount + contraction_mrr_amount as double)
                / cast(opening_mrr_amount as double)
        end as gross_revenue_retention,
        case
            when opening_mrr_amount > 0 then
                cast(
                    opening_mrr_amount + churn_mrr_amount + contraction_mrr_amount
                    + expansion_mrr_amount as double
                )
                / cast(opening_mrr_amount as double)
        end as net_revenue_retention
    from per_month

)

select * from final
