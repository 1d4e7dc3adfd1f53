with

dates as (

    select * from {{ ref('dim_dates') }}

),

tickets as (

    select * from {{ ref('fct_tickets') }}

),

created_per_day as (

    select
        created_date as date_day,
        count(*) as tickets_created_count
    from tickets
    group by created_date

),

solved_per_day as (

    select
        solved_date as date_day,
        count(*) as tickets_solved_count,
        median(full_resolution_calendar_minutes) / 60.0 as median_full_resolution_hours
    from tickets
    where is_solved
    group by solved_date

),

activity_window as (

    select
        min(created_date) as first_date,
        max(coalesce(solved_date, created_date)) as last_date
    from tickets

),

final as (

    select
        dates.date_day,
        coalesce(created_per_day.tickets_created_count, 0) as tickets_created_count,
        coalesce(solved_per_day.tickets_solved_count, 0) as tickets_solved_count,
        solved_per_day.median_full_resolution_hours
    from dates
    inner join activity_window
        on dates.date_day between activity_window.first_date and activity_window.last_date
    left join created_per_day
        on dates.date_day = created_per_day.date_day
    left join solved_per_day
        on dates.date_day = solved_per_day.date_day

)

select * from final
