{#- One row per planned team (seed team_targets) and UTC day from the first to the last ticket
    day within a planned quarter: the day's share of the quarter's budget, the quarter's
    targets, and the tickets, SLA results and CSAT answers behind the actuals. Ticket teams
    are tiers of a planned team when their id is the plan's id plus _t<n> (support_t1 and
    support_t2 are tiers of support). -#}
with

dates as (

    select * from {{ ref('dim_dates') }}

),

team_targets as (

    select * from {{ ref('team_targets') }}

),

tickets as (

    select * from {{ ref('fct_tickets') }}

),

survey_responses as (

    select * from {{ ref('fct_survey_responses') }}

),

quarters as (

    select
        team_id,
        cast(quarter_start_date as date) as quarter_start_date,
        cast(cast(quarter_start_date as date) + interval 3 month as date)
            as next_quarter_start_date,
        cast(budget_eur as double) as budget_eur,
        cast(target_headcount as integer) as target_headcount,
        cast(first_reply_sla_target_pct as double) as first_reply_sla_target_pct,
        cast(resolution_sla_target_pct as double) as resolution_sla_target_pct,
        cast(csat_target_pct as double) as csat_target_pct
    from team_targets

),

ticket_window as (

    select
        min(created_date) as first_date,
        max(created_date) as last_date
    from tickets

),

team_days as (

    select
        quarters.*,
        dates.date_day,
        datediff('day', quarters.quarter_start_date, quarters.next_quarter_start_date)
            as quarter_day_count
    from quarters
    inner join dates
        on
            quarters.quarter_start_date <= dates.date_day
            and quarters.next_quarter_start_date > dates.date_day
    inner join ticket_window
        on dates.date_day between ticket_window.first_date and ticket_window.last_date

),

planned_tickets as (

    select
        *,
        regexp_replace(team_id, '_t[0-9]+$', '') as plan_team_id
    from tickets

),

created_per_day as (

    select
        plan_team_id as team_id,
        created_date as date_day,
        count(*) as tickets_created_count,
        count(is_first_reply_sla_breached) as first_reply_measured_count,
        count(*) filter (where not is_first_reply_sla_breached) as first_reply_met_count,
        count(is_resolution_sla_breached) as resolution_measured_count,
        count(*) filter (where not is_resolution_sla_breached) as resolution_met_count
    from planned_tickets
    group by all

),

solved_per_day as (

    select
        plan_team_id as team_id,
        solved_date as date_day,
        count(*) as tickets_solved_count
    from planned_tickets
    where is_solved
    group by all

),

csat_per_day as (

    select
        regexp_replace(team_id, '_t[0-9]+$', '') as team_id,
        responded_date as date_day,
        count(is_satisfied) as csat_rated_count,
        count(*) filter (where is_satisfied) as csat_satisfied_count
    from survey_responses
    where survey_type = 'csat'
    group by all

),

final as (

    select
        team_days.team_id,
        team_days.date_day,
        team_days.quarter_start_date,
        team_days.budget_eur as quarter_budget_eur,
        team_days.budget_eur / team_days.quarter_day_count as daily_budget_eur,
        team_days.target_headcount,
        team_days.first_reply_sla_target_pct,
        team_days.resolution_sla_target_pct,
        team_days.csat_target_pct,
        coalesce(created_per_day.tickets_created_count, 0) as tickets_created_count,
        coalesce(solved_per_day.tickets_solved_count, 0) as tickets_solved_count,
        coalesce(created_per_day.first_reply_measured_count, 0) as first_reply_measured_count,
        coalesce(created_per_day.first_reply_met_count, 0) as first_reply_met_count,
        coalesce(created_per_day.resolution_measured_count, 0) as resolution_measured_count,
        coalesce(created_per_day.resolution_met_count, 0) as resolution_met_count,
        coalesce(csat_per_day.csat_rated_count, 0) as csat_rated_count,
        coalesce(csat_per_day.csat_satisfied_count, 0) as csat_satisfied_count
    from team_days
    left join created_per_day
        on
            team_days.team_id = created_per_day.team_id
            and team_days.date_day = created_per_day.date_day
    left join solved_per_day
        on
            team_days.team_id = solved_per_day.team_id
            and team_days.date_day = solved_per_day.date_day
    left join csat_per_day
        on
            team_days.team_id = csat_per_day.team_id
            and team_days.date_day = csat_per_day.date_day

)

select * from final
