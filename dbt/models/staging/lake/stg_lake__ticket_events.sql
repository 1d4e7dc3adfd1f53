with

ticket_deliveries as (

    select * from {{ lake_deliveries('ticket') }}

),

typed as {{ cte_not_materialized() }} (

    select
        {{ lake_envelope_columns() }},
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

    -- typed's columns, then delivery_count and duplicate_source_files (first_deliveries):
    -- sqlfluff cannot count a macro's columns, hence the noqa below.
    select * from first_deliveries

)

select * from final  -- noqa: AM04
