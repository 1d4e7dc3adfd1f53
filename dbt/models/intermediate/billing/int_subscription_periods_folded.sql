{#- Each subscription's MRR history as periods [valid_from_at, valid_to_at), folded from
    billing events alone. subscription.started sets plan, billing period and MRR;
    upgraded/downgraded change them from when they occur; subscription.cancelled ends the MRR
    at period_end_at (the end of the paid period: a cancelled annual plan keeps its MRR
    until then), falling back to when the cancellation occurred. mrr_amount_eur on the events
    is already the monthly equivalent (annual plans carry a twelfth), so it is taken as is.
    A renewal changes MRR only when it names an amount (a plan change at renewal); invoices
    and payments never do. The last period is open. -#}
{#- Incremental by subscription: a run recomputes, from all their events, the subscriptions
    with a subscription event received since the table's latest receipt less the look-back
    (macros/received_since.sql); last_received_at is the subscription's latest. -#}
{{ config(
    materialized='incremental',
    unique_key='subscription_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

-- The events the fold reads. A renewal that names an amount changes the plan from then (a
-- downgrade scheduled for the renewal takes effect there).
fold_events as (

    select
        event_id,
        event_type,
        subscription_id,
        customer_id,
        plan_id,
        billing_period,
        mrr_amount_eur,
        occurred_at,
        received_at,
        case
            when event_type = 'subscription.cancelled' then coalesce(period_end_at, occurred_at)
            else occurred_at
        end as effective_at,
        case when event_type = 'subscription.started' then 0 else 1 end as event_order
    from {{ ref('stg_lake__billing_events') }}
    where
        event_type in (
            'subscription.started',
            'subscription.upgraded',
            'subscription.downgraded',
            'subscription.cancelled'
        )
        or (event_type = 'subscription.renewed' and mrr_amount_eur is not null)

),

subscription_events as (

    select * from fold_events
    {{- where_received_since('subscription_id', 'subscription_id', 'fold_events') }}

),

carried as (

    select
        subscription_id,
        event_id,
        event_type,
        effective_at,
        event_order,
        received_at,
        max(received_at) over (partition by subscription_id) as last_received_at,
        last_value(customer_id ignore nulls) over (
            partition by subscription_id
            order by effective_at, event_order, event_id
            rows between unbounded preceding and current row
        ) as customer_id,
        last_value(plan_id ignore nulls) over (
            partition by subscription_id
            order by effective_at, event_order, event_id
            rows between unbounded preceding and current row
        ) as plan_id,
        last_value(billing_period ignore nulls) over (
            partition by subscription_id
            order by effective_at, event_order, event_id
            rows between unbounded preceding and current row
        ) as billing_period,
        case
            when event_type = 'subscription.cancelled' then cast(0 as decimal(18, 2))
            else mrr_amount_eur
        end as mrr_amount_eur
    from subscription_events

),

final as (

    select
        subscription_id,
        customer_id,
        plan_id,
        billing_period,
        mrr_amount_eur,
        event_type as changed_by_event_type,
        effective_at as valid_from_at,
        lead(effective_at) over (
            partition by subscription_id order by effective_at, event_order, event_id
        ) as valid_to_at,
        mrr_amount_eur - coalesce(
            lag(mrr_amount_eur) over (
                partition by subscription_id order by effective_at, event_order, event_id
            ),
            0
        ) as mrr_change_amount_eur,
        received_at,
        last_received_at
    from carried

)

select * from final
