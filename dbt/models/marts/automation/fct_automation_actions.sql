{#- One row per macro application or automation rule firing on a ticket, with the ticket's
    team, channel and plan, whether the firing resolved the ticket, and the agent minutes it
    is assumed to save (vars macro_minutes_saved and rule_minutes_saved). -#}
{#- Incremental by ticket (issue #5: the largest mart rebuilt daily): a run recomputes, from
    all their events, the tickets with an event received since the table's latest
    occurred_at less the look-back (macros/received_since.sql: the columns are the
    dashboards' contract, so there is no receipt column), and the tickets whose team,
    channel or plan in fct_tickets no longer match the rows held (a billing event can change
    a ticket's plan). A rule's unattended resolution is one of the ticket's own events, so
    late ones land exactly as in a full refresh. -#}
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

{% if is_incremental() %}
changed_tickets as (

    {{ keys_received_since('ticket_id', ref('stg_lake__ticket_events'), 'occurred_at') }}

    union

    select loaded.ticket_id
    from {{ this }} as loaded
    left join {{ ref('fct_tickets') }} as tickets
        on loaded.ticket_id = tickets.ticket_id
    where
        loaded.team_id != coalesce(tickets.team_id, '-1')
        or loaded.channel != coalesce(tickets.channel, '-1')
        or loaded.plan_id != coalesce(tickets.plan_id, '-1')

),
{% endif %}

ticket_events as (

    select * from {{ ref('stg_lake__ticket_events') }}
    {%- if is_incremental() %}
    where ticket_id in (select ticket_id from changed_tickets)
    {%- endif %}

),

tickets as (

    select * from {{ ref('fct_tickets') }}
    {%- if is_incremental() %}
    where ticket_id in (select ticket_id from changed_tickets)
    {%- endif %}

),

actions as (

    select
        event_id as automation_event_id,
        ticket_id,
        case
            when event_type = 'ticket.macro_applied' then 'macro'
            else 'rule'
        end as action_type,
        coalesce(macro_id, automation_rule_id, 'unknown') as automation_id,
        occurred_at,
        agent_id
    from ticket_events
    where event_type in ('ticket.macro_applied', 'ticket.automation_fired')

),

status_intervals as (

    select * from {{ ref('int_ticket_status_intervals_folded') }}
    {%- if is_incremental() %}
    where ticket_id in (select ticket_id from changed_tickets)
    {%- endif %}

),

-- A solve that no agent made: the work of a rule when a rule fired on the same ticket at the
-- same instant. A solve is what fct_backlog_daily counts, a move from an unsolved status into
-- solved or closed (the status history's intervals): closing a ticket already solved (help
-- desks do it after a few days, by rule) resolves nothing.
unattended_resolutions as (

    select distinct
        status_intervals.ticket_id,
        status_intervals.valid_from_at as occurred_at
    from status_intervals
    inner join ticket_events
        on status_intervals.started_by_event_id = ticket_events.event_id
    where
        not status_intervals.is_unsolved
        and (
            status_intervals.previous_status is null
            or status_intervals.previous_status in ('new', 'open', 'pending', 'on_hold')
        )
        and ticket_events.agent_id is null

),

final as (

    select
        actions.automation_event_id,
        actions.ticket_id,
        actions.action_type,
        actions.automation_id,
        actions.occurred_at,
        cast(actions.occurred_at as date) as occurred_date,
        actions.agent_id,
        coalesce(tickets.team_id, '-1') as team_id,
        coalesce(tickets.channel, '-1') as channel,
        coalesce(tickets.plan_id, '-1') as plan_id,
        actions.action_type = 'rule'
        and unattended_resolutions.ticket_id is not null as is_automatic_resolution,
        cast(
            case
                when actions.action_type = 'macro' then {{ var('macro_minutes_saved', 3) }}
                else {{ var('rule_minutes_saved', 1) }}
            end as double
        ) as minutes_saved
    from actions
    left join tickets
        on actions.ticket_id = tickets.ticket_id
    left join unattended_resolutions
        on
            actions.ticket_id = unattended_resolutions.ticket_id
            and actions.occurred_at = unattended_resolutions.occurred_at

)

select * from final
