"""Array parameters for one-statement batches on PostgreSQL: the element type each column is sent as."""

import pytest
from sqlalchemy import JSON, Boolean, Column, Integer, MetaData, String, Table, Uuid
from sqlmodel import AutoString

from libs.db.sql import pg_array, pg_array_type, pg_value
from libs.db.types import UTCDateTime

T = Table("t", MetaData(), Column("id", Uuid), Column("name", String(40)), Column("auto", AutoString(64)),
          Column("at", UTCDateTime()), Column("n", Integer), Column("ok", Boolean), Column("data", JSON))


def test_strings_go_as_text_so_the_column_refuses_an_over_long_value_instead_of_a_cast_cutting_it() -> None:
    assert pg_array_type(T.c["name"]) == "text"
    assert pg_array_type(T.c["auto"]) == "text"  # SQLModel's decorator over String


def test_other_types() -> None:
    assert [pg_array_type(T.c[n]) for n in ("id", "at", "n", "ok")] == ["uuid", "timestamptz", "integer", "boolean"]
    assert pg_array("ids", T.c["id"]) == "CAST(:ids AS uuid[])"


def test_json_travels_as_text_and_is_cast_back() -> None:
    assert pg_array_type(T.c["data"]) == "text"
    assert pg_value("v.data", T.c["data"]) == "CAST(v.data AS json)"
    assert pg_value("v.n", T.c["n"]) == "v.n"


def test_a_type_without_a_mapping_is_refused() -> None:
    from sqlalchemy import LargeBinary
    with pytest.raises(TypeError, match="no array type"):
        pg_array_type(Column("blob", LargeBinary))
