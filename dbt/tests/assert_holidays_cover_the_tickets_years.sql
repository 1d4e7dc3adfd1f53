-- Every holiday calendar a team schedule observes lists holidays in each year a ticket was
-- created or solved in: a year missing from seeds/holidays.csv would silently count that
-- year's holidays as open hours in every business-minute figure and SLA verdict. One row per
-- calendar and uncovered year. Dagster shows it as a check of fct_tickets (it also reads two
-- seeds).
{{ config(meta={'dagster': {'ref': {'name': 'fct_tickets'}}}) }}
with

calendars as (

    select distinct holiday_calendar
    from {{ ref('team_schedules') }}
    where holiday_calendar is not null

),

ticket_years as (

    select extract(year from created_at) as ticket_year
    from {{ ref('fct_tickets') }}

    union

    select extract(year from last_solved_at) as ticket_year
    from {{ ref('fct_tickets') }}
    where last_solved_at is not null

),

covered_years as (

    select distinct
        holiday_calendar,
        extract(year from holiday_date) as holiday_year
    from {{ ref('holidays') }}

)

select
    calendars.holiday_calendar,
    ticket_years.ticket_year
from calendars
cross join ticket_years
left join covered_years
    on
        calendars.holiday_calendar = covered_years.holiday_calendar
        and ticket_years.ticket_year = covered_years.holiday_year
where covered_years.holiday_calendar is null
