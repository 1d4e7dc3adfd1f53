with

survey_events as (

    select * from {{ lake_source('survey') }}

),

first_deliveries as (

    {{ first_deliveries('survey_events') }}

),

final as (

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
        cast(delivery_count as integer) as delivery_count
    from first_deliveries

)

select * from final
