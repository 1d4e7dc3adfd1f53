{#- One row per team and local calendar day: the day's business interval in UTC and the
    business seconds counted before the day starts, so business minutes between any two
    instants are a difference of two look-ups (see int_ticket_business_minutes_calculated). -#}
with

dates as (

    select * from {{ ref('dim_dates') }}

),

team_schedules as (

    select * from {{ ref('team_schedules') }}

),

holidays as (

    select * from {{ ref('holidays') }}

),

ticket_events as (

    select * from {{ ref('stg_lake__ticket_events') }}

),

teams as (

    select team_id from team_schedules
    union
    select team_id from ticket_events
    where team_id is not null
    union
    select previous_team_id as team_id from ticket_events
    where previous_team_id is not null
    union
    select 'default' as team_id

),

teams_with_own_schedule as (

    select distinct team_id from team_schedules

),

-- A team without rows of its own keeps the default schedule.
team_schedule_rows as (

    select
        teams.team_id,
        team_schedules.iso_day_of_week,
        team_schedules.start_time,
        team_schedules.end_time,
        team_schedules.time_zone,
        team_schedules.holiday_calendar
    from teams
    left join teams_with_own_schedule
        on teams.team_id = teams_with_own_schedule.team_id
    inner join team_schedules
        on team_schedules.team_id = coalesce(teams_with_own_schedule.team_id, 'default')

),

team_zones as (

    select distinct
        team_id,
        time_zone,
        holiday_calendar
    from team_schedule_rows

),

team_days as (

    select
        team_zones.team_id,
        team_zones.time_zone,
        dates.date_day as local_date,
        team_schedule_rows.start_time,
        team_schedule_rows.end_time,
        holidays.holiday_date is not null as is_holiday
    from team_zones
    cross join dates
    left join team_schedule_rows
        on
            team_zones.team_id = team_schedule_rows.team_id
            and dates.iso_day_of_week = team_schedule_rows.iso_day_of_week
    left join holidays
        on
            team_zones.holiday_calendar = holidays.holiday_calendar
            and dates.date_day = holidays.holiday_date

),

open_days as (

    select
        team_id,
        time_zone,
        local_date,
        case
            when start_time is not null and not is_holiday then
            {{ local_to_utc(
                dbt.dateadd(
                    'minute',
                    'extract(hour from start_time) * 60 + extract(minute from start_time)',
                    'cast(local_date as timestamp)'
                ),
                'time_zone'
            ) }}
        end as open_at,
        case
            when start_time is not null and not is_holiday then
            {{ local_to_utc(
                dbt.dateadd(
                    'minute',
                    'extract(hour from end_time) * 60 + extract(minute from end_time)',
                    'cast(local_date as timestamp)'
                ),
                'time_zone'
            ) }}
        end as close_at
    from team_days

),

final as (

    select
        team_id,
        time_zone,
        local_date,
        open_at,
        close_at,
        -- Whole seconds (integers) so the running sums stay exact over decades.
        coalesce({{ dbt.datediff('open_at', 'close_at', 'second') }}, 0) as business_seconds,
        coalesce(
            sum(coalesce({{ dbt.datediff('open_at', 'close_at', 'second') }}, 0)) over (
                partition by team_id
                order by local_date
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as business_seconds_before_day
    from open_days

)

select * from final
