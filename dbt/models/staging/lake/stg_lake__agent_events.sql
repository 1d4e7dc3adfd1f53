with

agent_deliveries as (

    select * from {{ lake_deliveries('agent') }}

),

typed as (

    select
        cast(event_id as varchar) as event_id,
        cast(event_type as varchar) as event_type,
        cast(schema_version as integer) as schema_version,
        {{ utc_timestamp('occurred_at') }} as occurred_at,
        {{ utc_timestamp('received_at') }} as received_at,
        cast(event_date as date) as event_date,
        cast(source as varchar) as source_system,
        cast(agent_id as varchar) as agent_id,
        cast(team_id as varchar) as team_id,
        cast(agent_name as varchar) as agent_name,
        cast(shift_id as varchar) as shift_id,
        cast(agent_status as varchar) as agent_status,
        cast(skills as varchar) as skills,
        cast(timezone as varchar) as timezone,
        source_file
    from agent_deliveries

),

first_deliveries as (

    {{ first_deliveries('typed') }}

),

final as (

    select
        event_id,
        event_type,
        schema_version,
        occurred_at,
        received_at,
        event_date,
        source_system,
        agent_id,
        team_id,
        agent_name,
        shift_id,
        agent_status,
        skills,
        timezone,
        source_file,
        delivery_count,
        duplicate_source_files
    from first_deliveries

)

select * from final
