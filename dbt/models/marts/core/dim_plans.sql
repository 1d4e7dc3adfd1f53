{#- One row per plan: the price list (seed plans), any plan a billing event names, `none`
    (no active subscription, which selects the SLA policy for customers without one), and the
    unknown member '-1'. -#}
with

plans as (

    select * from {{ ref('plans') }}

),

billing_events as (

    select * from {{ ref('stg_lake__billing_events') }}

),

seen as (

    select distinct plan_id
    from billing_events
    where plan_id is not null

),

final as (

    select
        plan_id,
        plan_name,
        tier_rank,
        monthly_price_eur,
        annual_price_eur
    from plans

    union all

    select
        seen.plan_id,
        seen.plan_id as plan_name,
        cast(null as integer) as tier_rank,
        cast(null as decimal(18, 2)) as monthly_price_eur,
        cast(null as decimal(18, 2)) as annual_price_eur
    from seen
    left join plans
        on seen.plan_id = plans.plan_id
    where plans.plan_id is null

    union all

    select
        'none' as plan_id,
        'No subscription' as plan_name,
        0 as tier_rank,
        cast(0 as decimal(18, 2)) as monthly_price_eur,
        cast(0 as decimal(18, 2)) as annual_price_eur

    union all

    select
        '-1' as plan_id,
        'Unknown' as plan_name,
        cast(null as integer) as tier_rank,
        cast(null as decimal(18, 2)) as monthly_price_eur,
        cast(null as decimal(18, 2)) as annual_price_eur

)

select * from final
