-- A ticket's first solve never comes after its last one, in calendar or business minutes.
select *
from {{ ref('fct_tickets') }}
where
    first_resolution_calendar_minutes > full_resolution_calendar_minutes
    or first_resolution_business_minutes > full_resolution_business_minutes
    or first_solved_at > last_solved_at
