"""Model instances from rows read with written-out SQL, made as the ORM makes them: each
field's database converters applied (SQLite gives dates and booleans as text and integers),
then `Model.from_db`. For a statement run on every request the ORM can spend longer composing
the SQL than the database spends answering it; the columns here are still the models' own,
taken from their fields. One database: the default one (Interval uses no other)."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model


def _shape(model: type[Model]) -> tuple[list[str], list]:
    """The model's concrete fields' attribute names, and per column its converters (or None),
    for this thread's connection: a converter reads its connection's settings (SQLite's time
    zone), so each connection keeps its own."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    shapes = wrapper.__dict__.setdefault("_model_row_shapes", {})
    shape = shapes.get(model)
    if shape is None:
        compiler = wrapper.ops.compiler("SQLCompiler")(None, wrapper, wrapper.alias)
        fields = list(model._meta.concrete_fields)
        converters = compiler.get_converters([field.get_col(model._meta.db_table) for field in fields])
        shape = shapes[model] = ([field.attname for field in fields],
                                 [converters.get(index) for index in range(len(fields))])
    return shape


def columns(model: type[Model], alias: str) -> str:
    """The model's columns, as `alias`.column, in the order `build` takes their values."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def width(model: type[Model]) -> int:
    return len(model._meta.concrete_fields)


def build(model: type[Model], values) -> Model:
    """The instance the ORM would make of the row `values` (of `columns`), read from the database."""
    names, converters = _shape(model)
    values = list(values)
    for index, converting in enumerate(converters):
        if converting is not None:
            functions, expression = converting
            for function in functions:
                values[index] = function(values[index], expression, connection)
    return model.from_db(DEFAULT_DB_ALIAS, names, values)


def ids_joined(column: str, *, distinct: bool = False) -> str:
    """The aggregate joining `column`'s values with commas ("3,7")."""
    distinct_sql = "DISTINCT " if distinct else ""
    if connection.vendor == "postgresql":
        return f"STRING_AGG({distinct_sql}CAST({column} AS TEXT), ',')"
    return f"GROUP_CONCAT({distinct_sql}{column})"


def fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
