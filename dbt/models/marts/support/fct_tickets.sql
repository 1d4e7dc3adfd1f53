with

tickets as (

    select * from {{ ref('int_ticket_events_pivoted_to_tickets') }}

),

final as (

    select
        ticket_id,
        customer_id,
        team_id,
        agent_id,
        channel,
        priority,
        created_at,
        cast(created_at as date) as created_date,
        first_replied_at,
        first_solved_at,
        last_solved_at,
        cast(last_solved_at as date) as solved_date,
        {{ elapsed_minutes('created_at', 'first_replied_at') }} as first_reply_calendar_minutes,
        {{ elapsed_minutes('created_at', 'first_solved_at') }} as first_resolution_calendar_minutes,
        {{ elapsed_minutes('created_at', 'last_solved_at') }} as full_resolution_calendar_minutes,
        cast(public_agent_reply_count as integer) as public_agent_reply_count,
        last_solved_at is not null as is_solved,
        (last_solved_at is not null and public_agent_reply_count <= 1) as is_one_touch
    from tickets

)

select * from final
