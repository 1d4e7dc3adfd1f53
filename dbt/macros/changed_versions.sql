{#- The rows of `relation` (a CTE: one row per event of each `key`, with its `attributes`
    already carried forward) that change at least one attribute, numbered as type-2
    versions: version_number from 1, valid_to_at the next version's occurred_at. An event
    that changes nothing starts no version. `columns` are passed through from each version's
    row. -#}
{% macro changed_versions(relation, key, order_by, attributes, columns=[]) -%}
    select
        {{ key }},
        occurred_at,
        {%- for column in attributes + columns %}
            {{ column }},
        {%- endfor %}
        row_number() over (partition by {{ key }} order by {{ order_by }}) as version_number,
        lead(occurred_at) over (partition by {{ key }} order by {{ order_by }}) as valid_to_at
    from (
        select
            *,
            {%- for attribute in attributes %}
                lag({{ attribute }}) over (partition by {{ key }} order by {{ order_by }})
                    as previous_{{ attribute }},
            {%- endfor %}
            row_number() over (partition by {{ key }} order by {{ order_by }}) as event_number
        from {{ relation }}
    ) as compared
    where
        event_number = 1
        {%- for attribute in attributes %}
            or {{ attribute }} is distinct from previous_{{ attribute }}
        {%- endfor %}
{%- endmacro %}
