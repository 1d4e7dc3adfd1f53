{#- Business minutes from creation to each milestone (first reply, first solve, last solve).
    Each ownership segment counts on the schedule of the team that owned the ticket then (a
    ticket moved from billing to technical counts billing's hours while billing held it):
    the clock runs on the hours of whoever is responsible. Within a segment, business minutes
    between two instants are B(end) - B(start), where B(t) is the team's business minutes
    before t's local day plus the part of that day's business interval before t. -#}
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

tickets as (

    select * from {{ ref('int_ticket_events_pivoted_to_tickets') }}
    {{- where_received_since(
        'ticket_id',
        'ticket_id',
        ref('int_ticket_events_pivoted_to_tickets'),
        received_column='last_received_at',
    ) }}

),

assignments as (

    select * from {{ ref('int_ticket_assignments_folded') }}

),

business_days as (

    select * from {{ ref('int_team_business_days_spined') }}

),

team_zones as (

    select distinct
        team_id,
        time_zone
    from business_days

),

segments as (

    select
        assignments.ticket_id,
        assignments.assignment_sequence_number,
        coalesce(assignments.team_id, 'default') as team_id,
        greatest(assignments.valid_from_at, tickets.created_at) as segment_start_at,
        assignments.valid_to_at as segment_end_at,
        tickets.first_replied_at,
        tickets.first_solved_at,
        tickets.last_solved_at
    from assignments
    inner join tickets
        on assignments.ticket_id = tickets.ticket_id

),

points as (

    {%- set milestones = ['first_replied_at', 'first_solved_at', 'last_solved_at'] %}
    select
        ticket_id,
        assignment_sequence_number,
        team_id,
        'segment_start' as point_name,
        segment_start_at as point_at
    from segments
    {%- for milestone in milestones %}
        union all
        select
            ticket_id,
            assignment_sequence_number,
            team_id,
            '{{ milestone }}' as point_name,
            case
                when segment_end_at is null or {{ milestone }} < segment_end_at then {{ milestone }}
                else segment_end_at
            end as point_at
        from segments
        where {{ milestone }} > segment_start_at
    {%- endfor %}

),

located as (

    select
        points.*,
        cast({{ utc_to_local('points.point_at', 'team_zones.time_zone') }} as date) as local_date
    from points
    inner join team_zones
        on points.team_id = team_zones.team_id

),

measured as (

    select
        located.ticket_id,
        located.assignment_sequence_number,
        located.point_name,
        business_days.business_seconds_before_day + case
            when business_days.open_at is null or located.point_at <= business_days.open_at then 0
            when located.point_at >= business_days.close_at then business_days.business_seconds
            else {{ dbt.datediff('business_days.open_at', 'located.point_at', 'second') }}
        end as business_seconds_at_point
    from located
    inner join business_days
        on
            located.team_id = business_days.team_id
            and located.local_date = business_days.local_date

),

per_segment as (

    select
        ticket_id,
        assignment_sequence_number,
        {%- for milestone in milestones %}
            max(case when point_name = '{{ milestone }}' then business_seconds_at_point end)
                as {{ milestone }}_seconds,
        {%- endfor %}
        max(case when point_name = 'segment_start' then business_seconds_at_point end)
            as start_seconds
    from measured
    group by ticket_id, assignment_sequence_number

),

final as (

    select
        tickets.ticket_id,
        case
            when tickets.first_replied_at is not null then
                coalesce(sum(per_segment.first_replied_at_seconds - per_segment.start_seconds), 0) / 60.0
        end as first_reply_business_minutes,
        case
            when tickets.first_solved_at is not null then
                coalesce(sum(per_segment.first_solved_at_seconds - per_segment.start_seconds), 0) / 60.0
        end as first_resolution_business_minutes,
        case
            when tickets.last_solved_at is not null then
                coalesce(sum(per_segment.last_solved_at_seconds - per_segment.start_seconds), 0) / 60.0
        end as full_resolution_business_minutes,
        tickets.last_received_at
    from tickets
    left join per_segment
        on tickets.ticket_id = per_segment.ticket_id
    group by
        tickets.ticket_id,
        tickets.first_replied_at,
        tickets.first_solved_at,
        tickets.last_solved_at,
        tickets.last_received_at

)

select * from final
