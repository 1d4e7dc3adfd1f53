{#- One row per customer and month while the customer has MRR, plus the month it churns.
    A month's MRR is the MRR active at the month's end (the instant before the next month
    starts). The movement compares it with the month before, so per month the movement
    amounts sum to the change in total MRR. -#}
{#- Incremental by customer: a run rebuilds all the months of the customers whose MRR
    intervals were refolded since this table's latest receipt less the look-back
    (int_customer_mrr_intervals_folded.last_received_at), and every customer once the months
    run past the table's last month (billing reached a new month: each active customer gets
    its row). Other customers' rows cannot change: a row depends only on the customer's own
    intervals and on the last month. delete+insert replaces a customer's rows whole, so rows a
    late cancellation ends go too. -#}
{{ config(
    materialized='incremental',
    unique_key='customer_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

dates as (

    select * from {{ ref('dim_dates') }}

),

all_customer_mrr as (

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

customer_mrr as (

    select * from all_customer_mrr
    {%- if is_incremental() %}
    where
        customer_id in (
            select changed.customer_id from all_customer_mrr as changed
            where changed.last_received_at > {{ lookback_start('last_received_at') }}
        )
        or (select bounds.last_month_start_date from bounds) > (
            select max(loaded.month_start_date) from {{ this }} as loaded
        )
    {%- endif %}

),

customers as (

    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'min(valid_from_at)') }} as date) as first_month_start_date,
        max(last_received_at) as last_received_at
    from customer_mrr
    where mrr_amount_eur > 0
    group by customer_id

),

customer_months as (

    select
        customers.customer_id,
        customers.last_received_at,
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
        customer_months.last_received_at,
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
    group by
        customer_months.customer_id,
        customer_months.month_start_date,
        customer_months.last_received_at

),

compared as (

    select
        customer_id,
        month_start_date,
        last_received_at,
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
        mrr_amount > 0 as is_active,
        last_received_at
    from compared
    where mrr_amount > 0 or previous_mrr_amount > 0

)

select * from final
