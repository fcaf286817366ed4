"""Model instances from rows read with written-out SQL, made as the ORM makes them: each
field's database converters applied (SQLite gives dates and booleans as text and integers),
then `Model.from_db`; and new rows written as `bulk_create` writes them (`insert`). For a
statement run on every request the ORM can spend longer composing the SQL than the database
spends answering it; the columns here are still the models' own, taken from their fields. One
database: the default one (Interval uses no other)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import uuid
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
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
    wrapper = None
    for index, converting in enumerate(converters):
        if converting is not None:
            wrapper = wrapper or connections[DEFAULT_DB_ALIAS]
            functions, expression = converting
            for function in functions:
                values[index] = function(values[index], expression, wrapper)
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


def _insert_shape(model: type[Model], form: str, count: int = 0) -> tuple[str, list, list]:
    """The written-out INSERT of rows of `model`, its value fields and its returned fields (the
    primary key), kept per connection, in one of three forms: "row", VALUES of `count` rows, a
    parameter a value; and for several rows on PostgreSQL "json", the rows as one JSON array
    made into rows of the table's own column types by json_populate_recordset, or "column",
    one array a column through UNNEST as Django's bulk insert sends them. Either of the last
    two is one statement, prepared once, for any number of rows; psycopg spends several times
    longer dumping the arrays than `json.dumps` spends on the same rows."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    shapes = wrapper.__dict__.setdefault("_model_insert_shapes", {})
    key = (model, form, count)
    shape = shapes.get(key)
    if shape is None:
        quote = wrapper.ops.quote_name
        table = quote(model._meta.db_table)
        fields = [field for field in model._meta.concrete_fields if not field.db_returning]
        returned = [field for field in model._meta.concrete_fields if field.db_returning]
        names = ", ".join(quote(field.column) for field in fields)
        sql = f"INSERT INTO {table} ({names}) "
        if form == "json":
            sql += f"SELECT {names} FROM json_populate_recordset(NULL::{table}, %s)"
        elif form == "column":
            # Each array's type without its length (varchar[], not varchar(32)[]), as Django's.
            arrays = [f"(%s)::{field.db_type(wrapper).split('(')[0]}[]" for field in fields]
            sql += f"SELECT * FROM UNNEST({', '.join(arrays)})"
        else:
            row = f"({', '.join(['%s'] * len(fields))})"
            sql += f"VALUES {', '.join([row] * count)}"
        if returned:
            sql += f" RETURNING {', '.join(quote(field.column) for field in returned)}"
        shape = shapes[key] = (sql, fields, returned)
    return shape


try:
    from psycopg.types.json import _JsonWrapper as _JSON_VALUE  # what JSONField adapts a value to
except ImportError:  # no psycopg: SQLite only, never a "json" insert
    _JSON_VALUE = ()


def _json_value(value):
    """A value as `get_db_prep_save` gives it for PostgreSQL, as the JSON of a "json" insert
    carries it: in a form its column's type reads back to the same value. TypeError for a
    value that has none here (bytes, an interval): its rows go by column."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()  # an aware datetime keeps its offset
    if isinstance(value, (Decimal, uuid.UUID, ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(value)
    if isinstance(value, _JSON_VALUE):  # a JSONField's value, dumped with the field's encoder
        return value.obj if value.dumps is json.dumps else json.loads(value.dumps(value.obj))
    raise TypeError(f"{type(value).__name__} goes by column")


def _rows_json(fields: list, values: list[list]) -> str | None:
    """The rows as one JSON array of objects keyed by column; None when a value has no exact
    JSON form (see `_json_value`; a float that is not finite)."""
    columns = [field.column for field in fields]
    try:
        return json.dumps([dict(zip(columns, row)) for row in values], default=_json_value, allow_nan=False,
                          ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


# Rows a written-out INSERT carries at most: 100 of the widest model's 28 columns stay far below
# SQLite's 32,766 parameters and PostgreSQL's 65,535, and the statements kept stay few.
INSERT_BATCH = 100


def insert(instances: list[Model]) -> list[Model]:
    """Write new instances of one model as `bulk_create` writes them (each field's `pre_save`
    and `get_db_prep_save`, the database's own values such as the primary key read back into
    the instance, no signals), in written-out INSERTs of up to INSERT_BATCH rows, all or none:
    on a request's path, Django's bulk insert spends longer composing its statement than the
    database spends on it. An instance must not have a primary key the database would give it."""
    if len(instances) > INSERT_BATCH:
        with transaction.atomic(savepoint=False):
            for first in range(0, len(instances), INSERT_BATCH):
                insert(instances[first:first + INSERT_BATCH])
        return instances
    if not instances:
        return instances
    model = type(instances[0])
    # The thread's connection itself: `django.db.connection` looks it up on every attribute read,
    # and each field's preparation reads several.
    wrapper = connections[DEFAULT_DB_ALIAS]
    several = len(instances) > 1 and wrapper.vendor == "postgresql"
    sql, fields, returned = _insert_shape(model, "json") if several else _insert_shape(model, "row", len(instances))
    values = []
    for instance in instances:
        if type(instance) is not model:
            raise TypeError(f"insert() writes rows of one model; got {model.__name__} and {type(instance).__name__}")
        if any(getattr(instance, field.attname) is not None for field in returned):
            raise ValueError(f"{model.__name__} {instance.pk} is written already: insert() writes new rows")
        values.append([field.get_db_prep_save(field.pre_save(instance, True), wrapper) for field in fields])
    if not several:
        params = [value for row in values for value in row]
    elif (rows_json := _rows_json(fields, values)) is not None:
        params = [rows_json]
    else:
        sql, fields, returned = _insert_shape(model, "column")
        params = [list(column) for column in zip(*values)]
    with wrapper.cursor() as cursor:
        cursor.execute(sql, params)
        written = cursor.fetchall() if returned else [()] * len(instances)
    for instance, row in zip(instances, written):
        for field, value in zip(returned, row):
            setattr(instance, field.attname, value)
        instance._state.adding, instance._state.db = False, DEFAULT_DB_ALIAS
    return instances


def _history_shape(model: type[Model], history_model: type[Model]) -> tuple[str, list]:
    """PostgreSQL's one statement writing a new `model` row and its history row: the history's
    copy of the row is taken from the row as written (RETURNING), so only its own fields go as
    parameters. Kept per connection, as `_insert_shape`."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    shapes = wrapper.__dict__.setdefault("_model_insert_shapes", {})
    key = (model, "with history", history_model)
    shape = shapes.get(key)
    if shape is None:
        quote = wrapper.ops.quote_name
        insert_sql, _fields, _returned = _insert_shape(model, "row", 1)
        copied = [quote(field.column) for field in history_model.tracked_fields]
        own = [history_model._meta.get_field(name) for name in HISTORY_FIELDS]
        shape = shapes[key] = (
            f"WITH written AS ({insert_sql.rsplit(' RETURNING ', 1)[0]} RETURNING *) "
            f"INSERT INTO {quote(history_model._meta.db_table)} ({', '.join(copied + [quote(f.column) for f in own])}) "
            f"SELECT {', '.join(copied)}, {', '.join(['%s'] * len(own))} FROM written "
            f"RETURNING {quote(model._meta.pk.column)}", own)
    return shape


# What simple-history writes of a history row besides its copy of the row (and its own key).
HISTORY_FIELDS = ("history_date", "history_change_reason", "history_type", "history_user_id")


def insert_with_history(instance: Model, history_model: type[Model], **history) -> Model:
    """Write a new instance, as `insert` does, with its history row (of simple-history's
    `history_model`): the row `bulk_history_create` writes, a copy of the instance's tracked
    fields and `history` (the HISTORY_FIELDS). One statement on PostgreSQL, the copy taken from
    the row as written; two elsewhere."""
    model = type(instance)
    wrapper = connections[DEFAULT_DB_ALIAS]
    if wrapper.vendor != "postgresql":
        insert([instance])
        insert([history_model(**{field.attname: getattr(instance, field.attname)
                                 for field in history_model.tracked_fields}, **history)])
        return instance
    if instance.pk is not None:
        raise ValueError(f"{model.__name__} {instance.pk} is written already: insert() writes new rows")
    sql, own = _history_shape(model, history_model)
    _sql, fields, returned = _insert_shape(model, "row", 1)
    params = [field.get_db_prep_save(field.pre_save(instance, True), wrapper) for field in fields]
    params += [field.get_db_prep_save(history[field.attname], wrapper) for field in own]
    with wrapper.cursor() as cursor:
        cursor.execute(sql, params)
        (pk,), = cursor.fetchall()
    setattr(instance, returned[0].attname, pk)
    instance._state.adding, instance._state.db = False, DEFAULT_DB_ALIAS
    return instance
