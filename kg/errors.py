"""Typed errors of tariff-kg. The CLI turns each into one line on stderr and exit code 2."""


class TariffKGError(Exception):
    """Base class of every error tariff-kg reports to a user."""


class InputError(TariffKGError):
    """A value a user gave (an option, a parameter, a file) is not usable."""


class DataError(TariffKGError):
    """A data file cannot be read: its message names the file and line."""


class EndpointError(TariffKGError):
    """A remote SPARQL endpoint refused or failed a request: the message names the endpoint."""


class StoreError(TariffKGError):
    """The embedded store cannot be built or opened."""
