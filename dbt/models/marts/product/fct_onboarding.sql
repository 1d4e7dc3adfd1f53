{#- One row per customer and onboarding milestone reached (the first time). Time to value is
    measured from the customer's start (customer.created, else the first subscription start,
    else the first milestone) to the last milestone of the journey, the highest
    milestone_order any customer reaches: is_final_milestone marks it. -#}
with

onboarding_events as (

    select * from {{ ref('stg_lake__onboarding_events') }}

),

customer_events as (

    select * from {{ ref('stg_lake__customer_events') }}

),

billing_events as (

    select * from {{ ref('stg_lake__billing_events') }}

),

milestones as (

    select
        customer_id,
        milestone,
        min(milestone_order) as milestone_order,
        min(occurred_at) as reached_at
    from onboarding_events
    group by customer_id, milestone

),

starts as (

    select
        customer_id,
        min(occurred_at) as started_at,
        1 as preference
    from customer_events
    where event_type = 'customer.created'
    group by customer_id
    union all
    select
        customer_id,
        min(occurred_at) as started_at,
        2 as preference
    from billing_events
    where event_type = 'subscription.started'
    group by customer_id
    union all
    select
        customer_id,
        min(reached_at) as started_at,
        3 as preference
    from milestones
    group by customer_id

),

customer_start as (

    select
        customer_id,
        min_by(started_at, preference) as started_at
    from starts
    group by customer_id

),

final_order as (

    select max(milestone_order) as final_milestone_order from milestones

),

final as (

    select
        milestones.customer_id,
        milestones.milestone,
        cast(milestones.milestone_order as integer) as milestone_order,
        milestones.reached_at,
        customer_start.started_at as customer_started_at,
        {{ elapsed_minutes('customer_start.started_at', 'milestones.reached_at') }} / 1440.0
            as days_since_start,
        milestones.milestone_order = final_order.final_milestone_order as is_final_milestone
    from milestones
    inner join customer_start
        on milestones.customer_id = customer_start.customer_id
    cross join final_order

)

select * from final
