"""Reference provider services that honour the stormproof contracts (real HTTP apps)."""

__all__: list[str] = []
