"""Dated configuration: the agency tree and the procedure catalogue (docs/domain.md §0, §7)."""

from libs.catalogue.agency import Agency, AgencyKind
from libs.catalogue.catalogue import Catalogue
from libs.catalogue.errors import CatalogueError, NotInCatalogueError, Problem
from libs.catalogue.loader import DEFAULT_AGENCIES, DEFAULT_PROCEDURES, load_catalogue
from libs.catalogue.parts import Fee, Step, TimeLimit
from libs.catalogue.procedure import RECEIVING_WARD, Procedure, ProcedureVersion

__all__ = [
    "DEFAULT_AGENCIES",
    "DEFAULT_PROCEDURES",
    "RECEIVING_WARD",
    "Agency",
    "AgencyKind",
    "Catalogue",
    "CatalogueError",
    "Fee",
    "NotInCatalogueError",
    "Problem",
    "Procedure",
    "ProcedureVersion",
    "Step",
    "TimeLimit",
    "load_catalogue",
]
