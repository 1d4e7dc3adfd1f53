-- Per month, the movement amounts add up to total MRR minus the previous month's total MRR
-- (computed from the month totals alone, not from each row's previous_mrr_amount).
with

mrr as (

    select * from {{ ref('fct_mrr_monthly') }}

),

totals as (

    select
        month_start_date,
        sum(mrr_amount) as total_mrr_amount,
        sum(mrr_movement_amount) as total_movement_amount
    from mrr
    group by month_start_date

),

compared as (

    select
        month_start_date,
        total_movement_amount,
        total_mrr_amount - coalesce(
            lag(total_mrr_amount) over (order by month_start_date), 0
        ) as total_change_amount
    from totals

)

select * from compared
where total_movement_amount != total_change_amount
