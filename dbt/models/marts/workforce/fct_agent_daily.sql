{#- Per agent and UTC day with any activity: the rows of int_agent_days_aggregated, which
    holds the definitions (solves, reopens, CSAT, shifts, occupancy, solve work, handle time,
    backlog owned) and keeps them incrementally by day. A table copy, so the mart's contract
    stays as it was and its ~50 k rows (at 10 M events) cost a fraction of a second. -#}
with

agent_days as (

    select * from {{ ref('int_agent_days_aggregated') }}

),

final as (

    select
        agent_id,
        team_id,
        activity_date,
        tickets_solved_count,
        solve_work_minutes,
        average_solve_work_minutes,
        average_handle_minutes,
        backlog_owned_count,
        public_reply_count,
        tickets_replied_count,
        solves_reopened_count,
        csat_response_count,
        csat_satisfied_count,
        scheduled_minutes,
        occupied_minutes,
        occupancy_rate
    from agent_days

)

select * from final
