{#- One row per team: teams with a schedule of their own, and every team named by an event,
    with the schedule that applies to it; plus the unknown member '-1'. -#}
with

business_days as (

    select * from {{ ref('int_team_business_days_spined') }}

),

team_schedules as (

    select * from {{ ref('team_schedules') }}

),

agent_events as (

    select * from {{ ref('stg_lake__agent_events') }}

),

chat_events as (

    select * from {{ ref('stg_lake__chat_events') }}

),

survey_events as (

    select * from {{ ref('stg_lake__survey_events') }}

),

teams as (

    select distinct
        team_id,
        time_zone
    from business_days
    where team_id != 'default'
    union
    select distinct
        team_id,
        cast(null as varchar) as time_zone
    from agent_events
    where team_id is not null
    union
    select distinct
        team_id,
        cast(null as varchar) as time_zone
    from chat_events
    where team_id is not null
    union
    select distinct
        team_id,
        cast(null as varchar) as time_zone
    from survey_events
    where team_id is not null

),

weekly_hours as (

    select
        team_id,
        sum(
            (extract(hour from end_time) * 60 + extract(minute from end_time))
            - (extract(hour from start_time) * 60 + extract(minute from start_time))
        ) / 60.0
            as weekly_business_hours
    from team_schedules
    group by team_id

),

collapsed as (

    select
        team_id,
        max(time_zone) as time_zone
    from teams
    group by team_id

),

final as (

    select
        collapsed.team_id,
        collapsed.team_id as team_name,
        coalesce(collapsed.time_zone, default_hours.time_zone) as time_zone,
        own_hours.team_id is not null as has_own_schedule,
        coalesce(own_hours.weekly_business_hours, default_hours.weekly_business_hours)
            as weekly_business_hours
    from collapsed
    left join weekly_hours as own_hours
        on collapsed.team_id = own_hours.team_id
    cross join (
        select
            weekly_hours.weekly_business_hours,
            (
                select max(time_zone) from team_schedules
                where team_id = 'default'
            ) as time_zone
        from weekly_hours
        where weekly_hours.team_id = 'default'
    ) as default_hours

    union all

    select
        '-1' as team_id,
        'Unknown' as team_name,
        cast(null as varchar) as time_zone,
        false as has_own_schedule,
        cast(null as double) as weekly_business_hours

)

select * from final
