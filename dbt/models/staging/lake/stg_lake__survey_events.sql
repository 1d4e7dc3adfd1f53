with

survey_deliveries as (

    select * from {{ lake_deliveries('survey') }}

),

typed as {{ cte_not_materialized() }} (

    select
        {{ lake_envelope_columns() }},
        cast(survey_id as varchar) as survey_id,
        cast(survey_type as varchar) as survey_type,
        cast(customer_id as varchar) as customer_id,
        cast(contact_id as varchar) as contact_id,
        cast(ticket_id as varchar) as ticket_id,
        cast(agent_id as varchar) as agent_id,
        cast(team_id as varchar) as team_id,
        cast(score as smallint) as score,
        cast(comment as varchar) as comment,
        source_file
    from survey_deliveries

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
