{#- Each ticket's status history as intervals [valid_from_at, valid_to_at), folded from its
    events alone: ticket.created sets the first status, ticket.status_changed the next ones,
    ticket.reopened moves a solved ticket back to open (or the status it names). An event that
    repeats the current status starts no new interval. The last interval is open (valid_to_at
    null). Ties at one instant keep creation first, then event_id order. -#}
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

ticket_events as (

    select * from {{ ref('stg_lake__ticket_events') }}
    {{- where_received_since(
        'ticket_id', 'ticket_id', ref('stg_lake__ticket_events'), watermark_column='received_at'
    ) }}

),

status_events as (

    select
        ticket_id,
        event_id,
        occurred_at,
        received_at,
        case
            when event_type = 'ticket.reopened' then coalesce(status, 'open')
            else status
        end as status,
        case when event_type = 'ticket.created' then 0 else 1 end as event_order
    from ticket_events
    where
        event_type in ('ticket.created', 'ticket.status_changed', 'ticket.reopened')
        and (status is not null or event_type = 'ticket.reopened')

),

sequenced as (

    select
        *,
        lag(status) over (
            partition by ticket_id order by occurred_at, event_order, event_id
        ) as status_before
    from status_events

),

changes as (

    select * from sequenced
    where status_before is null or status != status_before

),

final as (

    select
        ticket_id,
        status,
        lag(status) over (
            partition by ticket_id order by occurred_at, event_order, event_id
        ) as previous_status,
        occurred_at as valid_from_at,
        lead(occurred_at) over (
            partition by ticket_id order by occurred_at, event_order, event_id
        ) as valid_to_at,
        row_number() over (
            partition by ticket_id order by occurred_at, event_order, event_id
        ) as status_sequence_number,
        event_id as started_by_event_id,
        received_at
    from changes

)

select
    *,
    coalesce(previous_status in ('solved', 'closed'), false)
    and status not in ('solved', 'closed') as is_reopen,
    status in ('new', 'open', 'pending', 'on_hold') as is_unsolved
from final
