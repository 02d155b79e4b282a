"""Self-contained plotly HTML reports over the warehouse."""
