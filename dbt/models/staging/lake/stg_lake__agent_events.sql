with

agent_deliveries as (

    select * from {{ lake_deliveries('agent') }}

),

typed as {{ cte_not_materialized() }} (

    select
        {{ lake_envelope_columns() }},
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

    -- typed's columns, then delivery_count and duplicate_source_files (first_deliveries):
    -- sqlfluff cannot count a macro's columns, hence the noqa below.
    select * from first_deliveries

)

select * from final  -- noqa: AM04
