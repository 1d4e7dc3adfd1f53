with

survey_deliveries as (

    select * from {{ lake_deliveries('survey') }}

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

    select
        event_id,
        event_type,
        schema_version,
        occurred_at,
        received_at,
        event_date,
        source_system,
        survey_id,
        survey_type,
        customer_id,
        contact_id,
        ticket_id,
        agent_id,
        team_id,
        score,
        comment,
        source_file,
        delivery_count,
        duplicate_source_files
    from first_deliveries

)

select * from final
