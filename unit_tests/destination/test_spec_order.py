from pydantic import Field

from destination_vectors.config import connection_specification
from destination_vectors.spec_order import SpecModel


def test_fields_are_ordered_as_declared_and_an_explicit_order_wins():
    class Block(SpecModel):
        second: str = "b"
        first: str = Field("a", json_schema_extra={"order": 9})
        third: int = 3

    props = Block.model_json_schema()["properties"]
    assert {name: prop["order"] for name, prop in props.items()} == {"second": 0, "first": 9, "third": 2}, props


def test_spec_blocks_are_numbered_in_declaration_order():
    spec = connection_specification()
    for block in (spec, spec["properties"]["embedding"], spec["properties"]["object_storage"]):
        orders = [prop["order"] for prop in block["properties"].values()]
        assert orders == list(range(len(orders))), f"{block.get('title')}: orders {orders}"
