{#- The queue now: each unsolved ticket with its age as of the warehouse's latest received
    ticket event (as_of_at), not the reader's clock. For a live feed the two agree within
    the feed's delay; for a backfilled history (the demo) every age would otherwise count
    from today and the whole queue read "over 30 days". A view: it is a filter of
    fct_tickets and always agrees with it. -#}
{{ config(materialized='view') }}

with

tickets as (

    select * from {{ ref('fct_tickets') }}

),

as_of as (

    -- A creation stamped after its receipt (a source's clock ahead) moves it on: no
    -- negative ages.
    select max(greatest(last_received_at, created_at)) as as_of_at
    from tickets

),

unsolved as (

    select
        tickets.ticket_id,
        tickets.team_id,
        tickets.current_team_id,
        tickets.assignee_agent_id,
        tickets.channel,
        tickets.priority,
        tickets.current_status,
        tickets.created_at,
        tickets.created_date,
        as_of.as_of_at,
        {{ elapsed_minutes('created_at', 'as_of_at') }} / 60.0 as age_hours
    from tickets
    cross join as_of
    where tickets.current_status in ('new', 'open', 'pending', 'on_hold')

)

select
    ticket_id,
    team_id,
    current_team_id,
    assignee_agent_id,
    channel,
    priority,
    current_status,
    created_at,
    created_date,
    as_of_at,
    age_hours,
    case
        when age_hours < 24 then '1: under a day'
        when age_hours < 72 then '2: 1-3 days'
        when age_hours < 168 then '3: 3-7 days'
        when age_hours < 720 then '4: 7-30 days'
        else '5: over 30 days'
    end as age_band
from unsolved
