{#- Incremental on received_at: a run rebuilds, from all their events, the tickets with an
    event received since the table's latest receipt less a look-back (var
    incremental_lookback_hours; for events written while the last build ran), plus the
    tickets whose plan at creation may have changed: those of a customer created at or after
    the start of a subscription period received since then. A period's event only changes
    the plan from when it takes effect (the fold orders by that instant), so a ticket
    created before it keeps its plan; a day's renewals touch none of the year's earlier
    tickets, where rebuilding every ticket of each customer billed that day rebuilt four
    times as many. Late and redelivered events carry a new received_at, so they are picked
    up whatever their occurred_at, and the rebuilt rows equal a full refresh. A change to
    the seeds (schedules, holidays, SLA policies) needs --full-refresh. -#}
-- depends_on: {{ ref('stg_lake__ticket_events') }}
{#- The assignment history and business minutes are read for the rebuilt tickets only:
    DuckDB does not push the ticket filter through the ownership aggregate, and a
    whole-table aggregate costs seconds at 10 M events. -#}
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

{% if is_incremental() %}
watermark as (

    select {{ lookback_start('last_received_at') }} as since_at

),

-- Per customer, from when a ticket's plan may have changed: the earliest start of a
-- subscription period received since the watermark (for every customer of the
-- subscription's periods, should an event lack its customer).
changed_plans_from as (

    select
        subscription_periods.customer_id,
        min(new_periods.valid_from_at) as changed_from_at
    from {{ ref('int_subscription_periods_folded') }} as new_periods
    inner join {{ ref('int_subscription_periods_folded') }} as subscription_periods
        on new_periods.subscription_id = subscription_periods.subscription_id
    cross join watermark
    where new_periods.received_at > watermark.since_at
    group by subscription_periods.customer_id

),

changed_tickets as (

    select ticket_events.ticket_id
    from {{ ref('stg_lake__ticket_events') }} as ticket_events
    cross join watermark
    where ticket_events.received_at > watermark.since_at

    union

    select all_tickets.ticket_id
    from {{ ref('int_ticket_events_pivoted_to_tickets') }} as all_tickets
    inner join changed_plans_from
        on
            all_tickets.customer_id = changed_plans_from.customer_id
            and all_tickets.created_at >= changed_plans_from.changed_from_at

),
{% endif %}

tickets as (

    select * from {{ ref('int_ticket_events_pivoted_to_tickets') }}
    {%- if is_incremental() %}
    where ticket_id in (select ticket_id from changed_tickets)
    {%- endif %}

),

business_minutes as (

    select * from {{ ref('int_ticket_business_minutes_calculated') }}
    {%- if is_incremental() %}
    where ticket_id in (select ticket_id from tickets)
    {%- endif %}

),

status_intervals as (

    select * from {{ ref('int_ticket_status_intervals_folded') }}

),

assignments as (

    select * from {{ ref('int_ticket_assignments_folded') }}
    {%- if is_incremental() %}
    where ticket_id in (select ticket_id from tickets)
    {%- endif %}

),

subscription_periods as (

    select * from {{ ref('int_subscription_periods_folded') }}

),

plans as (

    select * from {{ ref('plans') }}

),

sla_policies as (

    select * from {{ ref('sla_policies') }}

),

-- Time in each status up to the last solve; intervals after it (solved, closed) do not count.
status_minutes as (

    select
        status_intervals.ticket_id,
        sum(case when status_intervals.is_reopen then 1 else 0 end) as reopen_count,
        {%- for measure, statuses in [
            ('requester_wait', "'new', 'open', 'on_hold'"),
            ('agent_work', "'new', 'open'"),
            ('agent_wait', "'pending'"),
            ('on_hold', "'on_hold'"),
        ] %}
            sum(
                case
                    when
                        status_intervals.status in ({{ statuses }})
                        and status_intervals.valid_from_at < tickets.last_solved_at
                        then {{ elapsed_minutes(
                        'status_intervals.valid_from_at',
                        'least(coalesce(status_intervals.valid_to_at, tickets.last_solved_at), '
                        ~ 'tickets.last_solved_at)'
                    ) }}
                    else 0
                end
            ) as {{ measure }}_minutes,
        {%- endfor %}
        max_by(status_intervals.status, status_intervals.status_sequence_number) as current_status
    from status_intervals
    inner join tickets
        on status_intervals.ticket_id = tickets.ticket_id
    group by status_intervals.ticket_id

),

ownership as (

    select
        ticket_id,
        -- An agent-to-agent change; the first assignment (from the queue) is not one.
        sum(
            case
                when
                    previous_agent_id is not null and agent_id is not null
                    and agent_id != previous_agent_id then 1
                else 0
            end
        ) as reassignment_count,
        sum(
            case
                when previous_team_id is not null and team_id != previous_team_id then 1 else 0
            end
        ) as team_transfer_count,
        max(case when assigned_by_event_type = 'ticket.escalated' then 1 else 0 end) = 1
            as is_escalated,
        max(escalation_tier) as max_escalation_tier,
        max_by(team_id, assignment_sequence_number) as current_team_id,
        max_by(agent_id, assignment_sequence_number) as assignee_agent_id
    from assignments
    group by ticket_id

),

-- The customer's plan when the ticket was created: the active subscription with the highest
-- MRR (ties: the higher tier); none when no subscription was active.
plan_at_creation as (

    select
        tickets.ticket_id,
        max_by(
            subscription_periods.plan_id,
            subscription_periods.mrr_amount_eur * 1000 + coalesce(plans.tier_rank, 0)
        ) as plan_id
    from tickets
    inner join subscription_periods
        on
            tickets.customer_id = subscription_periods.customer_id
            and tickets.created_at >= subscription_periods.valid_from_at
            and (
                subscription_periods.valid_to_at is null
                or tickets.created_at < subscription_periods.valid_to_at
            )
            and subscription_periods.mrr_amount_eur > 0
    left join plans
        on subscription_periods.plan_id = plans.plan_id
    group by tickets.ticket_id

),

joined as (

    select
        tickets.ticket_id,
        tickets.customer_id,
        tickets.team_id,
        tickets.agent_id,
        tickets.channel,
        tickets.priority,
        tickets.created_at,
        tickets.first_replied_at,
        tickets.first_solved_at,
        tickets.last_solved_at,
        tickets.public_agent_reply_count,
        tickets.last_received_at,
        business_minutes.first_reply_business_minutes,
        business_minutes.first_resolution_business_minutes,
        business_minutes.full_resolution_business_minutes,
        status_minutes.current_status,
        coalesce(status_minutes.reopen_count, 0) as reopen_count,
        status_minutes.requester_wait_minutes,
        status_minutes.agent_work_minutes,
        status_minutes.agent_wait_minutes,
        status_minutes.on_hold_minutes,
        coalesce(ownership.reassignment_count, 0) as reassignment_count,
        coalesce(ownership.team_transfer_count, 0) as team_transfer_count,
        coalesce(ownership.is_escalated, false) as is_escalated,
        ownership.max_escalation_tier,
        coalesce(ownership.current_team_id, tickets.team_id) as current_team_id,
        ownership.assignee_agent_id,
        coalesce(plan_at_creation.plan_id, 'none') as plan_id,
        sla_policies.first_reply_target_business_minutes,
        sla_policies.resolution_target_business_minutes
    from tickets
    left join business_minutes
        on tickets.ticket_id = business_minutes.ticket_id
    left join status_minutes
        on tickets.ticket_id = status_minutes.ticket_id
    left join ownership
        on tickets.ticket_id = ownership.ticket_id
    left join plan_at_creation
        on tickets.ticket_id = plan_at_creation.ticket_id
    left join sla_policies
        on
            tickets.priority = sla_policies.priority
            and coalesce(plan_at_creation.plan_id, 'none') = sla_policies.plan_id

),

final as (

    select
        ticket_id,
        customer_id,
        team_id,
        agent_id,
        channel,
        priority,
        created_at,
        cast(created_at as date) as created_date,
        first_replied_at,
        first_solved_at,
        last_solved_at,
        cast(last_solved_at as date) as solved_date,
        {{ elapsed_minutes('created_at', 'first_replied_at') }} as first_reply_calendar_minutes,
        {{ elapsed_minutes('created_at', 'first_solved_at') }} as first_resolution_calendar_minutes,
        {{ elapsed_minutes('created_at', 'last_solved_at') }} as full_resolution_calendar_minutes,
        cast(public_agent_reply_count as integer) as public_agent_reply_count,
        last_solved_at is not null and coalesce(current_status in ('solved', 'closed'), true)
            as is_solved,
        (last_solved_at is not null and public_agent_reply_count <= 1) as is_one_touch,
        first_reply_business_minutes,
        first_resolution_business_minutes,
        full_resolution_business_minutes,
        case when last_solved_at is not null then requester_wait_minutes end
            as requester_wait_calendar_minutes,
        case when last_solved_at is not null then agent_work_minutes end
            as agent_work_calendar_minutes,
        case when last_solved_at is not null then agent_wait_minutes end
            as agent_wait_calendar_minutes,
        case when last_solved_at is not null then on_hold_minutes end
            as on_hold_calendar_minutes,
        coalesce(current_status, 'new') as current_status,
        cast(reopen_count as integer) as reopen_count,
        cast(reassignment_count as integer) as reassignment_count,
        cast(team_transfer_count as integer) as team_transfer_count,
        is_escalated,
        cast(max_escalation_tier as integer) as max_escalation_tier,
        current_team_id,
        assignee_agent_id,
        plan_id,
        cast(first_reply_target_business_minutes as integer)
            as first_reply_target_business_minutes,
        cast(resolution_target_business_minutes as integer)
            as resolution_target_business_minutes,
        first_reply_business_minutes > first_reply_target_business_minutes
            as is_first_reply_sla_breached,
        full_resolution_business_minutes > resolution_target_business_minutes
            as is_resolution_sla_breached,
        coalesce(first_reply_business_minutes > first_reply_target_business_minutes, false)
        or coalesce(full_resolution_business_minutes > resolution_target_business_minutes, false)
            as is_sla_breached,
        last_received_at
    from joined

)

select * from final
