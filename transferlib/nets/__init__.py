"""The networks as every room knows them, without a framework: their transfer units, the figure
of their first-layer filters, and the environment a JAX process training them reads."""
