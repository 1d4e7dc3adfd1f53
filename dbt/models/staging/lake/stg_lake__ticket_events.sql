with

ticket_deliveries as (

    select * from {{ lake_deliveries('ticket') }}

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
        cast(ticket_id as varchar) as ticket_id,
        cast(customer_id as varchar) as customer_id,
        cast(team_id as varchar) as team_id,
        cast(agent_id as varchar) as agent_id,
        cast(channel as varchar) as channel,
        cast(priority as varchar) as priority,
        cast(status as varchar) as status,
        cast(previous_status as varchar) as previous_status,
        cast(author_type as varchar) as author_type,
        cast(is_public as boolean) as is_public,
        cast(previous_team_id as varchar) as previous_team_id,
        cast(previous_priority as varchar) as previous_priority,
        cast(escalation_tier as smallint) as escalation_tier,
        cast(merged_into_ticket_id as varchar) as merged_into_ticket_id,
        cast(macro_id as varchar) as macro_id,
        cast(automation_rule_id as varchar) as automation_rule_id,
        cast(subject as varchar) as subject,
        source_file
    from ticket_deliveries

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
        ticket_id,
        customer_id,
        team_id,
        agent_id,
        channel,
        priority,
        status,
        previous_status,
        author_type,
        is_public,
        previous_team_id,
        previous_priority,
        escalation_tier,
        merged_into_ticket_id,
        macro_id,
        automation_rule_id,
        subject,
        source_file,
        delivery_count,
        duplicate_source_files
    from first_deliveries

)

select * from final
