{#- One row per customer and month while the customer has MRR, plus the month it churns.
    A month's MRR is the MRR active at the month's end (the instant before the next month
    starts). The movement compares it with the month before, so per month the movement
    amounts sum to the change in total MRR. -#}
with

dates as (

    select * from {{ ref('dim_dates') }}

),

customer_mrr as (

    select * from {{ ref('int_customer_mrr_intervals_folded') }}

),

billing_events as (

    select * from {{ ref('stg_lake__billing_events') }}

),

months as (

    select distinct month_start_date
    from dates

),

bounds as (

    select
        cast({{ dbt.date_trunc('month', 'min(occurred_at)') }} as date) as first_month_start_date,
        {%- if var('as_of', none) %}
        -- Time travel: months run to the as_of month even if its billing was quiet.
        cast({{ dbt.date_trunc('month', "cast('" ~ var('as_of') ~ "' as timestamp)") }} as date)
            as last_month_start_date
        {%- else %}
            cast({{ dbt.date_trunc('month', 'max(occurred_at)') }} as date) as last_month_start_date
        {%- endif %}
    from billing_events

),

customers as (

    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'min(valid_from_at)') }} as date) as first_month_start_date
    from customer_mrr
    where mrr_amount_eur > 0
    group by customer_id

),

customer_months as (

    select
        customers.customer_id,
        months.month_start_date,
        cast({{ dbt.dateadd('month', 1, 'months.month_start_date') }} as timestamp)
            as next_month_start_at
    from customers
    cross join bounds
    inner join months
        on
            customers.first_month_start_date <= months.month_start_date
            and bounds.last_month_start_date >= months.month_start_date

),

month_end_mrr as (

    select
        customer_months.customer_id,
        customer_months.month_start_date,
        coalesce(max(customer_mrr.mrr_amount_eur), 0) as mrr_amount
    from customer_months
    left join customer_mrr
        on
            customer_months.customer_id = customer_mrr.customer_id
            and customer_months.next_month_start_at > customer_mrr.valid_from_at
            and (
                customer_mrr.valid_to_at is null
                or customer_months.next_month_start_at <= customer_mrr.valid_to_at
            )
    group by customer_months.customer_id, customer_months.month_start_date

),

compared as (

    select
        customer_id,
        month_start_date,
        mrr_amount,
        coalesce(
            lag(mrr_amount) over (partition by customer_id order by month_start_date), 0
        ) as previous_mrr_amount,
        coalesce(
            max(case when mrr_amount > 0 then 1 else 0 end) over (
                partition by customer_id
                order by month_start_date
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) = 1 as had_mrr_before
    from month_end_mrr

),

final as (

    select
        customer_id,
        month_start_date,
        cast(mrr_amount as decimal(18, 2)) as mrr_amount,
        cast(previous_mrr_amount as decimal(18, 2)) as previous_mrr_amount,
        case
            when previous_mrr_amount = 0 and mrr_amount > 0 and not had_mrr_before then 'new'
            when previous_mrr_amount = 0 and mrr_amount > 0 then 'reactivation'
            when previous_mrr_amount > 0 and mrr_amount = 0 then 'churn'
            when mrr_amount > previous_mrr_amount then 'expansion'
            when mrr_amount < previous_mrr_amount then 'contraction'
            else 'unchanged'
        end as mrr_movement,
        cast(mrr_amount - previous_mrr_amount as decimal(18, 2)) as mrr_movement_amount,
        mrr_amount > 0 as is_active
    from compared
    where mrr_amount > 0 or previous_mrr_amount > 0

)

select * from final
