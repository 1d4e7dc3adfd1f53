{#- Type-2 customer dimension: a version per change of attributes, each attribute carried
    forward from customer.created / customer.updated events until one changes it (an update
    that changes nothing starts no version). Customers seen only in other streams
    (tickets, billing, surveys, chats) get one inferred version with unknown attributes, so
    every fact's customer_id finds a row. The first version is valid from 1900-01-01 so facts
    from before the customer record still join; customer_created_at keeps the real instant. -#}
with

customer_events as (

    select * from {{ ref('stg_lake__customer_events') }}

),

ticket_events as (

    select * from {{ ref('stg_lake__ticket_events') }}

),

billing_events as (

    select * from {{ ref('stg_lake__billing_events') }}

),

survey_events as (

    select * from {{ ref('stg_lake__survey_events') }}

),

chat_events as (

    select * from {{ ref('stg_lake__chat_events') }}

),

attribute_events as (

    select
        customer_id,
        event_id,
        occurred_at,
        case when event_type = 'customer.created' then 0 else 1 end as event_order,
        company_name,
        segment,
        region,
        country,
        timezone,
        size_band
    from customer_events
    where event_type in ('customer.created', 'customer.updated')

),

{% set attributes = ['company_name', 'segment', 'region', 'country', 'timezone', 'size_band'] %}
carried as (

    select
        customer_id,
        occurred_at,
        event_order,
        event_id,
        {%- for attribute in attributes %}
            last_value({{ attribute }} ignore nulls) over (
                partition by customer_id
                order by occurred_at, event_order, event_id
                rows between unbounded preceding and current row
            ) as {{ attribute }},
        {%- endfor %}
        min(occurred_at) over (partition by customer_id) as customer_created_at
    from attribute_events

),

changes as (

    {{ changed_versions(
        'carried', 'customer_id', 'occurred_at, event_order, event_id', attributes, ['customer_created_at']
    ) }}

),

seen_elsewhere as (

    select customer_id from ticket_events
    where customer_id is not null
    union
    select customer_id from billing_events
    where customer_id is not null
    union
    select customer_id from survey_events
    where customer_id is not null
    union
    select customer_id from chat_events
    where customer_id is not null

),

known_customers as (

    select distinct customer_id from changes

),

inferred as (

    select seen_elsewhere.customer_id
    from seen_elsewhere
    left join known_customers as known
        on seen_elsewhere.customer_id = known.customer_id
    where known.customer_id is null

),

versions as (

    select
        customer_id || '#' || cast(version_number as varchar) as customer_key,
        customer_id,
        cast(version_number as integer) as version_number,
        company_name,
        segment,
        region,
        country,
        timezone as time_zone,
        size_band,
        customer_created_at,
        case
            when version_number = 1 then cast('1900-01-01' as timestamp) else occurred_at
        end as valid_from_at,
        valid_to_at,
        valid_to_at is null as is_current,
        false as is_inferred
    from changes

    union all

    select
        customer_id || '#1' as customer_key,
        customer_id,
        1 as version_number,
        cast(null as varchar) as company_name,
        cast(null as varchar) as segment,
        cast(null as varchar) as region,
        cast(null as varchar) as country,
        cast(null as varchar) as time_zone,
        cast(null as varchar) as size_band,
        cast(null as timestamp) as customer_created_at,
        cast('1900-01-01' as timestamp) as valid_from_at,
        cast(null as timestamp) as valid_to_at,
        true as is_current,
        true as is_inferred
    from inferred

    union all

    select
        '-1' as customer_key,
        '-1' as customer_id,
        1 as version_number,
        'Unknown' as company_name,
        'unknown' as segment,
        'unknown' as region,
        cast(null as varchar) as country,
        cast(null as varchar) as time_zone,
        cast(null as varchar) as size_band,
        cast(null as timestamp) as customer_created_at,
        cast('1900-01-01' as timestamp) as valid_from_at,
        cast(null as timestamp) as valid_to_at,
        true as is_current,
        false as is_inferred

)

select * from versions
