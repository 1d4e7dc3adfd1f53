{#- Incremental like fct_tickets: the tickets with an event received since the table's
    latest receipt less the look-back are rebuilt from all their events. -#}
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

{% if is_incremental() %}
changed_tickets as (

    select ticket_events.ticket_id
    from {{ ref('stg_lake__ticket_events') }} as ticket_events
    where ticket_events.received_at > {{ lookback_start('last_received_at') }}

),
{% endif %}

status_intervals as (

    select * from {{ ref('int_ticket_status_intervals_folded') }}
    {%- if is_incremental() %}
    where ticket_id in (select ticket_id from changed_tickets)
    {%- endif %}

),

ticket_receipts as (

    select
        ticket_id,
        max(received_at) as last_received_at
    from {{ ref('stg_lake__ticket_events') }}
    {%- if is_incremental() %}
    where ticket_id in (select ticket_id from changed_tickets)
    {%- endif %}
    group by ticket_id

),

assignments as (

    select * from {{ ref('int_ticket_assignments_folded') }}
    {%- if is_incremental() %}
    where ticket_id in (select ticket_id from changed_tickets)
    {%- endif %}

),

-- The team owning the ticket when the interval began.
final as (

    select
        status_intervals.ticket_id,
        cast(status_intervals.status_sequence_number as integer) as status_sequence_number,
        status_intervals.status,
        status_intervals.previous_status,
        coalesce(max_by(assignments.team_id, assignments.assignment_sequence_number), '-1')
            as team_id,
        status_intervals.valid_from_at,
        status_intervals.valid_to_at,
        {{ elapsed_minutes('status_intervals.valid_from_at', 'status_intervals.valid_to_at') }}
            as duration_calendar_minutes,
        status_intervals.valid_to_at is null as is_current,
        status_intervals.is_reopen,
        status_intervals.is_unsolved,
        ticket_receipts.last_received_at
    from status_intervals
    inner join ticket_receipts
        on status_intervals.ticket_id = ticket_receipts.ticket_id
    left join assignments
        on
            status_intervals.ticket_id = assignments.ticket_id
            and status_intervals.valid_from_at >= assignments.valid_from_at
    group by all

)

select * from final
