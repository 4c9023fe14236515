"""tariff-kg: an open knowledge graph of trade measures over time.

The Python API (kg.api; see the README, "Python"): open_store / open_endpoint give a backend;
answer, answers (a batch), duty_timeline and duty_diff ask it; EntryFacts and entry_facts hold the
facts of an entry. They are imported on first use, so `import kg` stays light for the command
line. (kg.batch and kg.timeline are the modules behind them, hence the functions' names.)
"""

from kg.errors import DataError, EndpointError, InputError, StoreError, TariffKGError

_API = {
    "answer": "kg.api", "answers": "kg.api", "duty_timeline": "kg.api", "duty_diff": "kg.api",
    "open_store": "kg.api", "open_endpoint": "kg.api", "entry_facts": "kg.api",
    "EntryFacts": "kg.duty", "DutyAnswer": "kg.duty", "Timeline": "kg.timeline",
    "Diff": "kg.timeline",
}

__all__ = [
    "DataError",
    "EndpointError",
    "InputError",
    "StoreError",
    "TariffKGError",
    *_API,
]


def __getattr__(name: str):
    """Import an API name from its module on first use."""
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'kg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
