{#- Retention by sign-up cohort (the month a customer first had MRR): per cohort and months
    since sign-up, the customers still paying and their MRR against the cohort's start. -#}
with

mrr as (

    select * from {{ ref('fct_mrr_monthly') }}

),

cohorts as (

    select
        customer_id,
        min(month_start_date) as cohort_month_start_date
    from mrr
    where mrr_movement = 'new'
    group by customer_id

),

cohort_start as (

    select
        cohorts.cohort_month_start_date,
        count(*) as cohort_customer_count,
        sum(mrr.mrr_amount) as cohort_starting_mrr_amount
    from cohorts
    inner join mrr
        on
            cohorts.customer_id = mrr.customer_id
            and cohorts.cohort_month_start_date = mrr.month_start_date
    group by cohorts.cohort_month_start_date

),

per_month as (

    select
        cohorts.cohort_month_start_date,
        mrr.month_start_date,
        sum(case when mrr.is_active then 1 else 0 end) as active_customer_count,
        sum(mrr.mrr_amount) as mrr_amount
    from cohorts
    inner join mrr
        on cohorts.customer_id = mrr.customer_id
    group by cohorts.cohort_month_start_date, mrr.month_start_date

),

final as (

    select
        per_month.cohort_month_start_date,
        per_month.month_start_date,
        cast(
            {{ dbt.datediff(
                'per_month.cohort_month_start_date', 'per_month.month_start_date', 'month'
            ) }} as integer
        ) as months_since_start,
        cast(cohort_start.cohort_customer_count as bigint) as cohort_customer_count,
        cast(per_month.active_customer_count as bigint) as active_customer_count,
        cast(per_month.mrr_amount as decimal(18, 2)) as mrr_amount,
        cast(per_month.active_customer_count as double) / cohort_start.cohort_customer_count
            as logo_retention_rate,
        case
            when cohort_start.cohort_starting_mrr_amount > 0 then
                cast(per_month.mrr_amount as double)
                / cast(cohort_start.cohort_starting_mrr_amount as double)
        end as revenue_retention_rate
    from per_month
    inner join cohort_start
        on per_month.cohort_month_start_date = cohort_start.cohort_month_start_date

)

select * from final
