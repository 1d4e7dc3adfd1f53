{#- Generic test: every row satisfies the expression (the few macros we need, written here
    since dbt hub packages are out of reach). -#}
{% test expression_is_true(model, expression) %}
    select *
    from {{ model }}
    where not ({{ expression }})
{% endtest %}
