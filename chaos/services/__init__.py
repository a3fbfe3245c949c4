"""Declaring services: a team's own, and the three bundled ones, the same way.

A service is declared once, in the project's configuration (`stormproof.toml` or the
`[tool.stormproof]` table of `pyproject.toml`): its client, its pact provider name, where its
provider comes from on the embedded backend, and its provider adapter (states, side effects).
"""

from typing import TYPE_CHECKING

from stormproof.chaos._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from stormproof.chaos.services._adapter import (
        Invariant,
        NoAdapter,
        ProviderAdapter,
        ProviderFaults,
        SideEffect,
    )
    from stormproof.chaos.services._config import (
        CONFIG_FILE,
        ConfigError,
        MatrixOverride,
        ProjectConfig,
        active_config,
        demo_config_path,
        find_config,
        load_config,
        parse_config,
    )
    from stormproof.chaos.services._declaration import (
        DeclarationError,
        ServiceDeclaration,
        close_adapter,
        resolve,
    )
    from stormproof.chaos.services._launch import (
        NoProviderError,
        launch_provider,
        launch_providers,
    )

# Lazy: a provider adapter needs `SideEffect` without loading the clients the declarations name.
_LAZY = {
    "CONFIG_FILE": "_config",
    "ConfigError": "_config",
    "DeclarationError": "_declaration",
    "Invariant": "_adapter",
    "MatrixOverride": "_config",
    "NoAdapter": "_adapter",
    "NoProviderError": "_launch",
    "ProjectConfig": "_config",
    "ProviderAdapter": "_adapter",
    "ProviderFaults": "_adapter",
    "ServiceDeclaration": "_declaration",
    "SideEffect": "_adapter",
    "active_config": "_config",
    "close_adapter": "_declaration",
    "demo_config_path": "_config",
    "find_config": "_config",
    "launch_provider": "_launch",
    "launch_providers": "_launch",
    "load_config": "_config",
    "parse_config": "_config",
    "resolve": "_declaration",
}


__getattr__, __dir__ = _lazy_exports(__name__, _LAZY)


__all__ = [
    "CONFIG_FILE",
    "ConfigError",
    "DeclarationError",
    "Invariant",
    "MatrixOverride",
    "NoAdapter",
    "NoProviderError",
    "ProjectConfig",
    "ProviderAdapter",
    "ProviderFaults",
    "ServiceDeclaration",
    "SideEffect",
    "active_config",
    "close_adapter",
    "demo_config_path",
    "find_config",
    "launch_provider",
    "launch_providers",
    "load_config",
    "parse_config",
    "resolve",
]
