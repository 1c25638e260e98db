"""The networks as every room knows them, without a framework: the built-in networks by name
(``units.NETWORKS``, the registry's framework-free half), their transfer units and image sizes,
and a user's function's units, asked of a subprocess."""
