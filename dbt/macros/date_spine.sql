{#- One row per day from start_date to end_date inclusive, as column date_day.
    Engine-specific, so it lives here: models stay portable. -#}
{% macro date_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine', 'servops')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__date_spine(start_date, end_date) -%}
    select cast(day_value as date) as date_day
    from unnest(
        generate_series(
            cast('{{ start_date }}' as date), cast('{{ end_date }}' as date), interval 1 day
        )
    ) as spine (day_value)
{%- endmacro %}

{% macro spark__date_spine(start_date, end_date) -%}
    select explode(sequence(to_date('{{ start_date }}'), to_date('{{ end_date }}'), interval 1 day)) as date_day
{%- endmacro %}
