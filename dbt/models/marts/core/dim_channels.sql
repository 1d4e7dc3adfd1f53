{#- One row per contact channel: the help-desk channels and any other a ticket or chat
    names; plus the unknown member '-1'. -#}
with

ticket_events as (

    select * from {{ ref('stg_lake__ticket_events') }}

),

chat_events as (

    select * from {{ ref('stg_lake__chat_events') }}

),

known as (

    select 'email' as channel
    union all
    select 'web'
    union all
    select 'chat'
    union all
    select 'phone'

),

channels as (

    select channel from known
    union
    select channel from ticket_events
    where channel is not null
    union
    select channel from chat_events
    where channel is not null

),

final as (

    select
        channel,
        channel in ('chat', 'phone') as is_live,
        true as is_known
    from channels

    union all

    select
        '-1' as channel,
        false as is_live,
        false as is_known

)

select * from final
