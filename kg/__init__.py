"""tariff-kg: an open knowledge graph of trade measures over time."""

from kg.errors import DataError, EndpointError, InputError, StoreError, TariffKGError

__all__ = [
    "DataError",
    "EndpointError",
    "InputError",
    "StoreError",
    "TariffKGError",
]
