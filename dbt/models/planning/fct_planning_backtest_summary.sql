{{ config(materialized='table', schema='planning') }}

with

backtest as (

    select * from {{ ref('fct_volume_backtest') }}

),

errors as (

    select
        contact_type,
        team_id,
        channel,
        origin_date,
        mase_scale,
        abs(actual_count - model_count) as model_error,
        abs(actual_count - baseline_count) as baseline_error,
        actual_count
    from backtest

),

per_series as (

    select
        contact_type,
        origin_date,
        team_id,
        channel,
        avg(model_error) / nullif(any_value(mase_scale), 0) as model_mase,
        avg(baseline_error) / nullif(any_value(mase_scale), 0) as baseline_mase
    from errors
    group by contact_type, origin_date, team_id, channel

),

wape as (

    select
        contact_type,
        sum(model_error) / nullif(sum(actual_count), 0) as model_wape,
        sum(baseline_error) / nullif(sum(actual_count), 0) as baseline_wape,
        count(distinct origin_date) as origin_count
    from errors
    group by contact_type

),

mase as (

    select
        contact_type,
        avg(model_mase) as model_mase,
        avg(baseline_mase) as baseline_mase
    from per_series
    group by contact_type

),

final as (

    select
        'volume_' || wape.contact_type as forecast_name,
        wape.origin_count,
        wape.model_wape,
        wape.baseline_wape,
        mase.model_mase,
        mase.baseline_mase,
        wape.model_wape < wape.baseline_wape as is_model_better
    from wape
    inner join mase on wape.contact_type = mase.contact_type

)

select * from final
